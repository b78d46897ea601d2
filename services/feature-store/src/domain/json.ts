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
