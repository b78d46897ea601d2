/** An expected outcome as a value: either the value, or why there is none. */
export type Result<T, E> = Ok<T> | Err<E>;
export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}
export interface Err<E> {
  readonly ok: false;
  readonly error: E;
}

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err<E>(error: E): Err<E> {
  return { ok: false, error };
}

/** The value of a result whose failure is a bug at this point (tests, invariants). */
export function unwrap<T, E>(result: Result<T, E>): T {
  if (result.ok) return result.value;
  const error = result.error;
  throw new Error(
    `unwrap of a failed result: ${isDomainError(error) ? `${error.kind}: ${error.message}` : JSON.stringify(error)}`,
  );
}

/**
 * An expected failure of a use case, named by a stable `kind` that callers switch on. Domain code says what
 * went wrong; only entry points (HTTP controllers, message handlers) decide what it means on the wire
 * (a status code, a dead letter).
 */
export interface DomainError<K extends string = string> {
  readonly kind: K;
  /** For a person: what is wrong and, where it helps, what to do. */
  readonly message: string;
  /** Machine-readable particulars (every validation error, the conflicting version, ...). */
  readonly details?: unknown;
}

export function domainError<K extends string>(kind: K, message: string, details?: unknown): DomainError<K> {
  return details === undefined ? { kind, message } : { kind, message, details };
}

export function isDomainError(value: unknown): value is DomainError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { kind?: unknown }).kind === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}
