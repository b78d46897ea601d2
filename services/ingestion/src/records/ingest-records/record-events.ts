/** The events ingestion emits about one record: validated or rejected, sensitive fields already handled. */
import { type EventData, EventTypes } from '@mlops/contracts';
import { type CloudEvent, newEvent } from '@mlops/messaging';
import type { DatasetVersion } from '../../domain/dataset';
import { outcomeEventId } from '../../domain/event-ids';
import type { JsonObject } from '../../domain/json';
import type { RecordError, RecordVerdict } from '../../domain/record-check';
import { type Hasher, protectSensitiveFields } from '../../domain/sensitive-fields';
import { SOURCE } from '../../tokens';

export const VALIDATED = EventTypes.DataValidatedV1;
export const REJECTED = EventTypes.DataRejectedV1;
type Scalar = string | number | boolean | null;

export interface RecordOrigin {
  /** CloudEvents id of the mlops.data.record.v1 event (real, or derived for an HTTP record). */
  sourceEventId: string;
  recordId?: string;
  /** The record event itself when the record came from Kafka; the HTTP request's id otherwise. */
  causedBy?: Pick<CloudEvent, 'id' | 'correlationid'>;
  correlationId?: string;
  /** Id of the outcome event when nothing can ever send the record again under the same id (HTTP, no record id): random. */
  eventId?: string;
}

function eventOptions(type: string, dataset: string, origin: RecordOrigin, now: Date) {
  return {
    source: SOURCE,
    id: origin.eventId ?? outcomeEventId(type, dataset, origin),
    subject: dataset,
    time: now,
    ...(origin.causedBy ? { causedBy: origin.causedBy } : {}),
    ...(origin.correlationId ? { correlationId: origin.correlationId } : {}),
  };
}

export function validatedEvent(
  dataset: DatasetVersion,
  verdict: Extract<RecordVerdict, { ok: true }>,
  origin: RecordOrigin,
  hash: Hasher | undefined,
  now: Date,
): CloudEvent<typeof VALIDATED> {
  const data: EventData<typeof VALIDATED> = {
    dataset: dataset.name,
    datasetVersion: dataset.version,
    role: dataset.role,
    entityId: verdict.entityId,
    eventTime: verdict.eventTime,
    record: protectSensitiveFields(verdict.values, dataset.sensitiveFields, hash) as Record<string, Scalar>,
    ...(origin.recordId !== undefined ? { recordId: origin.recordId } : {}),
    sourceEventId: origin.sourceEventId,
    validatedAt: now.toISOString(),
  };
  return newEvent(VALIDATED, data, eventOptions(VALIDATED, dataset.name, origin, now));
}

/** `dataset` undefined: the dataset is not registered, its sensitive fields are unknown, so the record is withheld. */
export function rejectedEvent(
  datasetName: string,
  dataset: DatasetVersion | undefined,
  record: JsonObject,
  entityId: string,
  errors: readonly RecordError[],
  origin: RecordOrigin,
  hash: Hasher | undefined,
  now: Date,
): CloudEvent<typeof REJECTED> {
  const data: EventData<typeof REJECTED> = {
    dataset: datasetName,
    datasetVersion: dataset?.version ?? null,
    entityId,
    record: dataset ? protectSensitiveFields(record, dataset.sensitiveFields, hash) : {},
    ...(origin.recordId !== undefined ? { recordId: origin.recordId } : {}),
    sourceEventId: origin.sourceEventId,
    errors: errors.map((e) => ({ kind: e.kind, path: e.path.slice(0, 1024), message: e.message.slice(0, 1024) })),
    rejectedAt: now.toISOString(),
  };
  return newEvent(REJECTED, data, eventOptions(REJECTED, datasetName, origin, now));
}
