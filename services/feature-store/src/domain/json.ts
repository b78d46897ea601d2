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

/** Sets an own field even when its name is __proto__ (assignment would replace the object's prototype instead). */
export function setField<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A field's own value: undefined when absent, never one inherited from Object.prototype (constructor, toString). */
export function ownValue<T>(source: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(source, key) ? source[key] : undefined;
}
