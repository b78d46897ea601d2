/** The events ingestion emits about one record: validated or rejected, sensitive fields already handled. */
import { randomUUID } from 'node:crypto';
import { type EventData, EventTypes } from '@mlops/contracts';
import { type CloudEvent, newEvent } from '@mlops/messaging';
import type { DatasetVersion } from '../../domain/dataset';
import { httpRecordEventId, outcomeEventId } from '../../domain/event-ids';
import type { JsonObject } from '../../domain/json';
import { carriableCopy } from '../../domain/record-guards';
import type { InvalidRecord, RecordError, ValidRecord } from '../../domain/record-check';
import { type Hasher, hmacHasher, protectSensitiveFields } from '../../domain/sensitive-fields';
import { SOURCE } from '../../tokens';

export const VALIDATED = EventTypes.DataValidatedV1;
export const REJECTED = EventTypes.DataRejectedV1;
type Scalar = string | number | boolean | null;

/** Where a record came from: it decides the ids of the events about it and what caused them. */
export type RecordOrigin =
  /** A mlops.data.record.v1 event read from Kafka. */
  | { via: 'kafka'; event: Pick<CloudEvent, 'id' | 'correlationid'>; recordId: string | undefined }
  /** An item of an HTTP request; the request id correlates the events of its records. `recordKey`: its recordId, else its content key. */
  | { via: 'http'; requestId: string; recordId: string | undefined; recordKey: string };

/** The outcome event's id and the id of the record event it answers (real, or derived for an HTTP record). */
function idsOf(type: string, dataset: string, origin: RecordOrigin): { id: string; sourceEventId: string } {
  const withRecordId = origin.recordId !== undefined ? { recordId: origin.recordId } : {};
  if (origin.via === 'kafka') {
    return {
      id: outcomeEventId(type, dataset, { ...withRecordId, sourceEventId: origin.event.id }),
      sourceEventId: origin.event.id,
    };
  }
  // Without a recordId the record is identified by its content: a retried request gives the same ids.
  const sourceEventId = httpRecordEventId(dataset, origin.recordKey, randomUUID);
  return { id: outcomeEventId(type, dataset, { recordId: origin.recordKey, sourceEventId }), sourceEventId };
}

function eventOptions(id: string, dataset: string, origin: RecordOrigin, now: Date) {
  return {
    source: SOURCE,
    id,
    subject: dataset,
    time: now,
    ...(origin.via === 'kafka' ? { causedBy: origin.event } : { correlationId: origin.requestId }),
  };
}

/** The hasher of `hash` fields, when the service has a key. */
export function recordHasher(key: string | undefined): Hasher | undefined {
  return key !== undefined ? hmacHasher(key) : undefined;
}

/**
 * When a record was known: the upstream's `knownAt`, or its event time when the request says the records were
 * known at event time (`?knownAt=event-time`, a history import); kept only when earlier than now (undefined: now).
 */
export function knownAtOf(
  explicit: string | undefined,
  mode: 'event-time' | undefined,
  eventTime: string,
  now: Date,
): string | undefined {
  const known = explicit ?? (mode === 'event-time' ? eventTime : undefined);
  const ms = known === undefined ? NaN : Date.parse(known);
  return Number.isFinite(ms) && ms < now.getTime() ? new Date(ms).toISOString() : undefined;
}

export function validatedEvent(
  dataset: DatasetVersion,
  verdict: ValidRecord,
  origin: RecordOrigin,
  hash: Hasher | undefined,
  now: Date,
  knownAt?: string,
): CloudEvent<typeof VALIDATED> {
  const { id, sourceEventId } = idsOf(VALIDATED, dataset.name, origin);
  const data: EventData<typeof VALIDATED> = {
    dataset: dataset.name,
    datasetVersion: dataset.version,
    role: dataset.role,
    entityId: verdict.entityId,
    eventTime: verdict.eventTime,
    record: protectSensitiveFields(verdict.values, dataset.sensitiveFields, hash) as Record<string, Scalar>,
    ...(origin.recordId !== undefined ? { recordId: origin.recordId } : {}),
    ...(knownAt !== undefined ? { knownAt } : {}),
    sourceEventId,
    validatedAt: now.toISOString(),
  };
  return newEvent(VALIDATED, data, eventOptions(id, dataset.name, origin, now));
}

/** A record that failed its dataset schema; sensitive fields are hashed or dropped, the rest kept for repair. */
export function rejectedEvent(
  dataset: DatasetVersion,
  record: JsonObject,
  verdict: InvalidRecord,
  origin: RecordOrigin,
  hash: Hasher | undefined,
  now: Date,
): CloudEvent<typeof REJECTED> {
  // Non-finite numbers and nesting past the limit cannot travel in an event: carried as null.
  const protectedRecord = protectSensitiveFields(carriableCopy(record), dataset.sensitiveFields, hash);
  return rejected(dataset.name, dataset.version, verdict.entityId, protectedRecord, verdict.errors, origin, now);
}

/** A record of a dataset that is not registered: its sensitive fields are unknown, so the record is withheld. */
export function withheldEvent(
  datasetName: string,
  entityId: string,
  errors: readonly RecordError[],
  origin: RecordOrigin,
  now: Date,
): CloudEvent<typeof REJECTED> {
  return rejected(datasetName, null, entityId, {}, errors, origin, now);
}

function rejected(
  datasetName: string,
  datasetVersion: number | null,
  entityId: string,
  record: JsonObject,
  errors: readonly RecordError[],
  origin: RecordOrigin,
  now: Date,
): CloudEvent<typeof REJECTED> {
  const { id, sourceEventId } = idsOf(REJECTED, datasetName, origin);
  const data: EventData<typeof REJECTED> = {
    dataset: datasetName,
    datasetVersion,
    entityId,
    record,
    ...(origin.recordId !== undefined ? { recordId: origin.recordId } : {}),
    sourceEventId,
    errors: errors.map((e) => ({ kind: e.kind, path: e.path.slice(0, 1024), message: e.message.slice(0, 1024) })),
    rejectedAt: now.toISOString(),
  };
  return newEvent(REJECTED, data, eventOptions(id, datasetName, origin, now));
}
