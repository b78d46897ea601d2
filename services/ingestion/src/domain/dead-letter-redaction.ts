/**
 * What a dead letter of mlops.data.record.v1 may keep: the event with its record's sensitive fields hashed or
 * dropped as its dataset says, or with the whole record dropped when the dataset is unknown or cannot be read.
 * Works on the raw value (binary mode: the data; structured mode: the envelope with `data`), as the consumer
 * dead-letters it, since a poison event may not even decode.
 */
import type { SensitiveTreatment } from './dataset';
import { type Json, type JsonObject, isJsonObject } from './json';
import { type Hasher, protectSensitiveFields } from './sensitive-fields';

/** The sensitive fields of a dataset (a version, or the latest), or undefined when it is unknown. */
export type SensitiveFieldsOf = (
  dataset: string,
  version: number | undefined,
) => Promise<Readonly<Record<string, SensitiveTreatment>> | undefined>;

export const DROPPED_RECORD = { redacted: 'record dropped: its dataset could not be read' } as const;

/** The redacted value; a value that is not a JSON object is dropped entirely (nothing in it can be vouched for). */
export async function redactRecordDeadLetter(
  value: Buffer,
  sensitiveFieldsOf: SensitiveFieldsOf,
  hash: Hasher | undefined,
): Promise<Buffer> {
  let parsed: Json;
  try {
    parsed = JSON.parse(value.toString('utf8')) as Json;
  } catch {
    return Buffer.alloc(0);
  }
  if (!isJsonObject(parsed)) return Buffer.alloc(0);
  const structured = isJsonObject(parsed.data) && typeof parsed.specversion === 'string';
  const data = structured ? (parsed.data as JsonObject) : parsed;
  const redactedData = await redactData(data, sensitiveFieldsOf, hash);
  return Buffer.from(JSON.stringify(structured ? { ...parsed, data: redactedData } : redactedData));
}

async function redactData(
  data: JsonObject,
  sensitiveFieldsOf: SensitiveFieldsOf,
  hash: Hasher | undefined,
): Promise<JsonObject> {
  if (!Object.hasOwn(data, 'record')) return data;
  const dataset = data.dataset;
  const version = data.datasetVersion;
  let treatments: Readonly<Record<string, SensitiveTreatment>> | undefined;
  if (typeof dataset === 'string' && isJsonObject(data.record)) {
    try {
      treatments = await sensitiveFieldsOf(dataset, typeof version === 'number' ? version : undefined);
    } catch {
      treatments = undefined;
    }
  }
  if (!treatments || !isJsonObject(data.record)) return { ...data, record: DROPPED_RECORD };
  // Without the hash key, a field to hash is dropped instead: never kept in clear.
  const effective = hash
    ? treatments
    : Object.fromEntries(Object.keys(treatments).map((field) => [field, 'drop' as const]));
  return { ...data, record: protectSensitiveFields(data.record, effective, hash) };
}
