import type { ValidationIssue } from '@mlops/contracts';

/** Why a message can never be processed, whatever the retry: it goes to the DLQ at once. */
export type PoisonReason =
  | 'malformed-json'
  | 'missing-attribute'
  | 'unsupported-specversion'
  | 'unknown-type'
  | 'type-topic-mismatch'
  | 'schema-violation'
  | 'oversized'
  | 'no-handler'
  | 'rejected-by-handler';

export class PoisonMessageError extends Error {
  constructor(
    readonly reason: PoisonReason,
    message: string,
    readonly issues: readonly ValidationIssue[] = [],
  ) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

/** Thrown by a handler when the event is understood but can never succeed (e.g. refers to nothing). */
export class PermanentHandlerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentHandlerError';
  }
}

export class EventTooLargeError extends Error {
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
    readonly type: string,
  ) {
    super(`event ${type} is ${sizeBytes} bytes, over the ${limitBytes} byte limit`);
    this.name = 'EventTooLargeError';
  }
}

/**
 * What a log line may say of an error that may quote values (a driver's "invalid input syntax ... \"<value>\""):
 * its name and code, and the message only of KafkaJS errors, which speak of brokers and topics, never of values.
 */
export function safeErrorSummary(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  const name = typeof code === 'string' || typeof code === 'number' ? `${error.name} (code ${code})` : error.name;
  return error.name.startsWith('KafkaJS') ? `${name}: ${error.message}` : name;
}
