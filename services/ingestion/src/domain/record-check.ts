/** Judging one record against its dataset version: every error with its kind, or the normalised record. */
import type { DataRejectedV1 } from '@mlops/contracts';
import type { DatasetVersion } from './dataset';
import { type Json, type JsonObject, escapePointer, isJsonObject } from './json';
import { type EventTimeRange, eventTimeProblem, eventTimeRange, idProblem, shapeProblems } from './record-guards';

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
  const found = ownEntityId(record, entityKeyField);
  return found !== undefined && found.problem === undefined ? found.id : undefined;
}

/** The record's own entity id (absent: undefined) and why it cannot be used, if it cannot. */
function ownEntityId(record: Json, entityKeyField: string): { id?: string; problem?: string } | undefined {
  if (!isJsonObject(record) || !Object.hasOwn(record, entityKeyField)) return undefined;
  const value = record[entityKeyField];
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string' && !(typeof value === 'number' && Number.isSafeInteger(value)))
    return { problem: 'the entity id must be a string or an integer' };
  const id = String(value);
  const problem = idProblem('entity id', id);
  return problem === undefined ? { id } : { problem };
}

/** A field's own value: undefined when absent, never one inherited from Object.prototype. */
export function ownField(record: JsonObject, field: string): Json | undefined {
  return Object.hasOwn(record, field) ? record[field] : undefined;
}

/**
 * Checks a record: its shape first (depth, finite numbers: without recursion, and then the schema issues are
 * not asked for), the schema issues found by the dataset's validator, plus what a schema cannot say (usable
 * entity id, an RFC 3339 event time inside `range`, the entity id the envelope claims).
 */
export function checkRecord(
  dataset: DatasetVersion,
  record: JsonObject,
  issues: readonly SchemaIssue[] | (() => readonly SchemaIssue[]),
  claimedEntityId?: string,
  range: EventTimeRange = eventTimeRange(new Date()),
): RecordVerdict {
  const shape = shapeProblems(record);
  const schemaIssues = shape.length > 0 ? [] : typeof issues === 'function' ? issues() : issues;
  const errors: RecordError[] = [
    ...shape.map((p): RecordError => ({
      kind: p.rule === 'non_finite_number' ? 'type_mismatch' : 'constraint_violation',
      path: p.path,
      message: p.message,
      keyword: p.rule,
    })),
    ...schemaIssues.map((issue) => ({
      kind: kindOf(issue, dataset.eventTimeField),
      path: issue.path,
      message: issue.message,
      keyword: issue.keyword,
    })),
  ];
  const own = ownEntityId(record, dataset.entityKeyField);
  const ownId = own?.problem === undefined ? own?.id : undefined;
  const claimedUsable = claimedEntityId !== undefined && idProblem('entity id', claimedEntityId) === undefined;
  const entityId = ownId ?? (claimedUsable ? claimedEntityId : undefined) ?? UNKNOWN_ENTITY;
  const keyPath = `/${escapePointer(dataset.entityKeyField)}`;
  if (own?.problem !== undefined && !errors.some((e) => e.path === keyPath)) {
    errors.push({ kind: 'constraint_violation', path: keyPath, message: own.problem, keyword: 'entityKey' });
  }
  if (claimedEntityId !== undefined && ownId !== undefined && claimedEntityId !== ownId) {
    errors.push({
      kind: 'entity_key_mismatch',
      path: keyPath,
      message: `the event's entityId "${claimedEntityId}" differs from the record's ${dataset.entityKeyField} "${ownId}"`,
      keyword: 'entityKey',
    });
  }
  const timePath = `/${escapePointer(dataset.eventTimeField)}`;
  const eventTime = ownField(record, dataset.eventTimeField);
  if (eventTime != null && !errors.some((e) => e.path === timePath)) {
    const problem = !isRfc3339(eventTime)
      ? 'must be an RFC 3339 date-time with a time zone'
      : eventTimeProblem(instantOf(eventTime), range);
    if (problem !== undefined)
      errors.push({ kind: 'invalid_event_time', path: timePath, message: problem, keyword: 'eventTime' });
  }
  if (errors.length > 0) return { ok: false, entityId, errors };
  // Defined, not assigned: a field named __proto__ is a field like any other.
  const values: Record<string, string | number | boolean | null> = {};
  for (const field of Object.keys(dataset.recordSchema.properties as JsonObject)) {
    const value = ownField(record, field);
    Object.defineProperty(values, field, {
      value: value === undefined || isJsonObject(value) || Array.isArray(value) ? null : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return {
    ok: true,
    entityId: entityId,
    eventTime: new Date(instantOf(eventTime as string)).toISOString(),
    values,
  };
}

function instantOf(rfc3339: string): number {
  return Date.parse(rfc3339.replace(' ', 'T'));
}

/** A record event as it arrives from Kafka: the dataset it names, what it claims, and the record. */
export interface RecordEventInput {
  dataset: string;
  datasetVersion?: number;
  entityId: string;
  /** The upstream id the event carries, if any. */
  recordId?: string;
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
  range: EventTimeRange = eventTimeRange(new Date()),
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
  const verdict = checkRecord(dataset, input.record, () => issuesOf(dataset, input.record), input.entityId, range);
  const recordIdProblem = input.recordId !== undefined ? idProblem('recordId', input.recordId) : undefined;
  if (recordIdProblem === undefined) return { kind: 'checked', dataset, verdict };
  const recordIdError: RecordError = {
    kind: 'constraint_violation',
    path: '',
    message: recordIdProblem,
    keyword: 'recordId',
  };
  return {
    kind: 'checked',
    dataset,
    verdict: {
      ok: false,
      entityId: verdict.entityId,
      errors: [...(verdict.ok ? [] : verdict.errors), recordIdError],
    },
  };
}
