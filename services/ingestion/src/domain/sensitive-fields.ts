import { createHmac } from 'node:crypto';
import type { SensitiveTreatment } from './dataset';
import { type Json, type JsonObject, defineField } from './json';

/** Pseudonymises one value: the same value under the same key always gives the same digest, so joins still work. */
export type Hasher = (value: Json) => string;

/** HMAC-SHA256 (hex) of the value's text; strings are hashed as they are, other values as their JSON. */
export function hmacHasher(key: string): Hasher {
  return (value) =>
    createHmac('sha256', key)
      .update(typeof value === 'string' ? value : JSON.stringify(value))
      .digest('hex');
}

/**
 * A copy of the record with its sensitive fields hashed or dropped; nulls stay null (absence is not secret).
 * Applied to everything that leaves ingestion, accepted or rejected.
 */
export function protectSensitiveFields(
  record: JsonObject,
  treatments: Readonly<Record<string, SensitiveTreatment>>,
  hash: Hasher | undefined,
): JsonObject {
  // Own-property checks and defined (not assigned) fields: __proto__ or constructor are plain fields here.
  const out: JsonObject = {};
  for (const key of Object.keys(record)) defineField(out, key, record[key]!);
  for (const [field, treatment] of Object.entries(treatments)) {
    if (!Object.hasOwn(out, field)) continue;
    const value = out[field]!;
    if (treatment === 'drop') delete out[field];
    else if (value !== null) {
      if (!hash) throw new Error(`field "${field}" must be hashed but no hash key is configured`);
      defineField(out, field, hash(value));
    }
  }
  return out;
}

/** Whether a dataset needs the hash key. */
export function needsHashKey(treatments: Readonly<Record<string, SensitiveTreatment>>): boolean {
  return Object.values(treatments).includes('hash');
}
