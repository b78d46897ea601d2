import { createHash } from 'node:crypto';
import type { Json, JsonObject } from './json';

/** Namespace of our name-based ids (a fixed random UUID; changing it changes every derived id). */
export const INGESTION_NAMESPACE = '6f1c2a3e-5b7d-4e2f-9a1b-3c4d5e6f7a8b';

function namespaceBytes(namespace: string): Buffer {
  const bytes = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (bytes.length !== 16) throw new TypeError(`namespace must be a UUID, got "${namespace}"`);
  return bytes;
}

// Parsed once: every id ingestion derives uses it.
const INGESTION_NAMESPACE_BYTES = namespaceBytes(INGESTION_NAMESPACE);

/** RFC 9562 UUID version 5: SHA-1 of namespace + name, so the same name always gives the same id. */
export function uuidV5(name: string, namespace = INGESTION_NAMESPACE): string {
  const bytes = createHash('sha1')
    .update(namespace === INGESTION_NAMESPACE ? INGESTION_NAMESPACE_BYTES : namespaceBytes(namespace))
    .update(name, 'utf8')
    .digest();
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The CloudEvents id of what ingestion emits for a record: derived from dataset + record id when the record
 * has one (a retried request or a redelivered event gets the same id, and consumers' inboxes drop the copy),
 * otherwise from the id of the event that carried it.
 */
export function outcomeEventId(
  type: string,
  dataset: string,
  origin: { recordId?: string; sourceEventId: string },
): string {
  return origin.recordId !== undefined
    ? uuidV5(`${type}\u0000${dataset}\u0000record\u0000${origin.recordId}`)
    : uuidV5(`${type}\u0000${dataset}\u0000event\u0000${origin.sourceEventId}`);
}

/** Id standing for the (virtual) mlops.data.record.v1 event of a record that arrived over HTTP. */
export function httpRecordEventId(dataset: string, recordId: string | undefined, random: () => string): string {
  return recordId !== undefined ? uuidV5(`http-record\u0000${dataset}\u0000${recordId}`) : random();
}

/**
 * JSON with object keys sorted at every level and no whitespace: two records with the same fields and values
 * give the same text whatever order their keys came in. Callers pass records already cut to MAX_RECORD_DEPTH.
 */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
}

/**
 * The identity of a record sent without a recordId: a hash of its dataset and its content, so a client retrying
 * after a 503 sends the same record, not a new one (two identical records without recordId are one record).
 */
export function contentRecordKey(dataset: string, record: JsonObject): string {
  const digest = createHash('sha256').update(dataset).update('\u0000').update(canonicalJson(record)).digest('hex');
  return `content:${digest}`;
}
