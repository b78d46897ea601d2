/**
 * Whether a failure says a dependency (Postgres, ClickHouse, Kafka, the network) is unavailable for now, so the
 * same event will succeed once it answers: such a failure is waited out, never dead-lettered.
 */

/** Thrown by code that knows a dependency is unavailable (a store that cannot reach its server, ...). */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Postgres SQLSTATEs that a retry of the same statement can outlive: connection exceptions (class 08),
 * serialization failure and deadlock (40001, 40P01), too many connections (53300), server shutting down or
 * starting (57P01-57P03), lock not available under a lock timeout (55P03).
 */
function isTransientPostgresCode(code: string): boolean {
  return code.startsWith('08') || ['40001', '40P01', '53300', '57P01', '57P02', '57P03', '55P03'].includes(code);
}

const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /connection (?:is )?(?:closed|ended|refused|reset)/i,
  /timeout exceeded when trying to connect/i,
  /cannot use a pool after calling end/i,
  /client has encountered a connection error/i,
  /the database system is (?:starting up|shutting down|in recovery mode)/i,
  /socket hang up/i,
  /fetch failed/i,
];

/** KafkaJS marks errors a retry can outlive; these names are connection-level on their own. */
const KAFKA_TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
]);

export function isTransientError(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  if (error instanceof DependencyUnavailableError) return true;
  const candidate = error as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    retriable?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  const code = typeof candidate.code === 'string' ? candidate.code : undefined;
  if (code && (NETWORK_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isTransientPostgresCode(code)))) return true;
  if (typeof candidate.name === 'string' && KAFKA_TRANSIENT_NAMES.has(candidate.name)) return true;
  if (candidate.retriable === true && typeof candidate.name === 'string' && candidate.name.startsWith('KafkaJS'))
    return true;
  if (
    typeof candidate.message === 'string' &&
    TRANSIENT_MESSAGES.some((pattern) => pattern.test(candidate.message as string))
  )
    return true;
  // TypeORM wraps the driver's error; Node wraps causes; AggregateError lists every connection attempt.
  if (isTransientError(candidate.driverError, depth + 1) || isTransientError(candidate.cause, depth + 1)) return true;
  return (
    Array.isArray(candidate.errors) &&
    candidate.errors.length > 0 &&
    candidate.errors.every((inner) => isTransientError(inner, depth + 1))
  );
}
