/** Judging one record against its dataset version: every error with its kind, or the normalised record. */
import type { DataRejectedV1 } from '@mlops/contracts';
import type { DatasetVersion } from './dataset';
import { type Json, type JsonObject, escapePointer, isJsonObject } from './json';

/** The error kinds of mlops.data.rejected.v1 (and of the quality counts), taken from its schema. */
export type ErrorKind = DataRejectedV1['errors'][number]['kind'];

export interface RecordError {
  kind: ErrorKind;
  path: string;
  message: string;
  /** The JSON Schema keyword that failed (ajv's), or ours: entityKey, eventTime, dataset. */
  keyword: string;
}

/** One schema validation issue, as the validator reports it (path: JSON Pointer to the offending field). */
export interface SchemaIssue {
  path: string;
  keyword: string;
  message: string;
}

export type RecordVerdict = ValidRecord | InvalidRecord;
/** A record that passed: its entity, its event time in UTC, and every declared field (null when absent). */
export interface ValidRecord {
  ok: true;
  entityId: string;
  eventTime: string;
  values: Record<string, string | number | boolean | null>;
}
export interface InvalidRecord {
  ok: false;
  entityId: string;
  errors: RecordError[];
}

export const UNKNOWN_ENTITY = '(unknown)';

// RFC 3339 date-time, with a zone.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function isRfc3339(value: unknown): value is string {
  return typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T')));
}

export function kindOf(issue: SchemaIssue, eventTimeField: string): ErrorKind {
  if (issue.keyword === 'required') return 'missing_field';
  if (issue.keyword === 'additionalProperties' || issue.keyword === 'unevaluatedProperties') return 'unknown_field';
  if (issue.keyword === 'type') return 'type_mismatch';
  if (issue.path === `/${escapePointer(eventTimeField)}`) return 'invalid_event_time';
  return 'constraint_violation';
}

/** The entity id a record claims (its entity key field), when it is a usable id. */
export function entityIdOf(record: Json, entityKeyField: string): string | undefined {
  if (!isJsonObject(record)) return undefined;
  const value = record[entityKeyField];
  const id =
    typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)) ? String(value) : undefined;
  return id !== undefined && id.length >= 1 && id.length <= 256 ? id : undefined;
}

/**
 * Checks a record: the schema issues found by the dataset's validator, plus what a schema cannot say
 * (the event time is a real RFC 3339 instant, the entity id matches the one the envelope claims).
 */
export function checkRecord(
  dataset: DatasetVersion,
  record: JsonObject,
  issues: readonly SchemaIssue[],
  claimedEntityId?: string,
): RecordVerdict {
  const errors: RecordError[] = issues.map((issue) => ({
    kind: kindOf(issue, dataset.eventTimeField),
    path: issue.path,
    message: issue.message,
    keyword: issue.keyword,
  }));
  const ownEntityId = entityIdOf(record, dataset.entityKeyField);
  const entityId = ownEntityId ?? claimedEntityId ?? UNKNOWN_ENTITY;
  const keyPath = `/${escapePointer(dataset.entityKeyField)}`;
  if (ownEntityId === undefined && record[dataset.entityKeyField] != null && !errors.some((e) => e.path === keyPath)) {
    errors.push({
      kind: 'constraint_violation',
      path: keyPath,
      message: 'the entity id must be a string or integer of 1..256 characters',
      keyword: 'entityKey',
    });
  }
  if (claimedEntityId !== undefined && ownEntityId !== undefined && claimedEntityId !== ownEntityId) {
    errors.push({
      kind: 'entity_key_mismatch',
      path: keyPath,
      message: `the event's entityId "${claimedEntityId}" differs from the record's ${dataset.entityKeyField} "${ownEntityId}"`,
      keyword: 'entityKey',
    });
  }
  const timePath = `/${escapePointer(dataset.eventTimeField)}`;
  const eventTime = record[dataset.eventTimeField];
  if (eventTime != null && !errors.some((e) => e.path === timePath) && !isRfc3339(eventTime)) {
    errors.push({
      kind: 'invalid_event_time',
      path: timePath,
      message: 'must be an RFC 3339 date-time with a time zone',
      keyword: 'eventTime',
    });
  }
  if (errors.length > 0) return { ok: false, entityId, errors };
  const values: Record<string, string | number | boolean | null> = {};
  for (const field of Object.keys(dataset.recordSchema.properties as JsonObject)) {
    const value = record[field];
    values[field] = value === undefined || isJsonObject(value) || Array.isArray(value) ? null : value;
  }
  return {
    ok: true,
    entityId: entityId,
    eventTime: new Date(Date.parse((eventTime as string).replace(' ', 'T'))).toISOString(),
    values,
  };
}

/** A record event as it arrives from Kafka: the dataset it names, what it claims, and the record. */
export interface RecordEventInput {
  dataset: string;
  datasetVersion?: number;
  entityId: string;
  record: JsonObject;
  /** Id of the mlops.data.record.v1 event, to replay it once the dataset is registered. */
  eventId: string;
}

/** What becomes of a record event: its dataset is unknown (the record is withheld), it is invalid, or valid. */
export type RecordEventVerdict =
  | { kind: 'unknown_dataset'; entityId: string; errors: RecordError[] }
  | { kind: 'checked'; dataset: DatasetVersion; verdict: RecordVerdict };

/** Checks a record event against its dataset version, or says that version is not registered. */
export function checkRecordEvent(
  dataset: DatasetVersion | undefined,
  input: RecordEventInput,
  issuesOf: (dataset: DatasetVersion, record: JsonObject) => readonly SchemaIssue[],
): RecordEventVerdict {
  if (!dataset) {
    const what =
      input.datasetVersion === undefined
        ? `dataset "${input.dataset}" is not registered`
        : `dataset "${input.dataset}" has no version ${input.datasetVersion}`;
    const message = `${what}; the record is withheld because its sensitive fields are unknown (replay event ${input.eventId} once registered)`;
    return {
      kind: 'unknown_dataset',
      entityId: input.entityId,
      errors: [{ kind: 'unknown_dataset', path: '', keyword: 'dataset', message }],
    };
  }
  return {
    kind: 'checked',
    dataset,
    verdict: checkRecord(dataset, input.record, issuesOf(dataset, input.record), input.entityId),
  };
}
