/** An expected outcome as a value: either the value, or every reason there is none. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** A scalar as it appears in a validated record or a feature vector. */
export type Scalar = number | string | boolean | null;

/** Any JSON value; records are flat today, but dot paths may reach into nested objects. */
export type JsonValue = Scalar | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export type JsonObject = { readonly [key: string]: JsonValue };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Non-finite numbers are not JSON: they become null. */
export function jsonSafe(value: Scalar): Scalar {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
