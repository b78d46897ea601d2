import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventTypes } from '@mlops/contracts';
import { type CloudEvent, EventProducer, EventTooLargeError, PermanentHandlerError, encodeEvent, enqueueInOutbox } from '@mlops/messaging';
import type { DatasetVersion } from '../../domain/dataset';
import { httpRecordEventId } from '../../domain/event-ids';
import { type RecordError, type RecordVerdict, checkRecord } from '../../domain/record-check';
import { type BodyItem, parseRecordsBody } from '../../domain/records-body';
import { type Hasher, hmacHasher, needsHashKey } from '../../domain/sensitive-fields';
import { AcceptedRecords } from '../../infrastructure/accepted-records';
import { DatasetStore } from '../../infrastructure/dataset-store';
import { RecordValidators } from '../../infrastructure/record-validators';
import { QualityTracker } from '../../quality/quality-tracker';
import type { IngestionConfig } from '../../config';
import { INGESTION_CONFIG, PG_SCHEMA } from '../../tokens';
import { type RecordOrigin, rejectedEvent, validatedEvent } from './record-events';

/** A body as read off the wire, before any parsing. */
export type RawBody = { tooLarge: false; text: string } | { tooLarge: true; bytes: number };

export interface RecordResult {
  index: number;
  /** NDJSON line number (1-based). */
  line?: number;
  recordId?: string;
  entityId?: string;
  status: 'accepted' | 'rejected';
  /** The record id was accepted before: nothing was emitted again. */
  duplicate?: true;
  /** Id of the mlops.data.validated.v1 / rejected.v1 event. */
  eventId?: string;
  errors?: Array<{ kind: string; path: string; message: string }>;
}

export interface IngestResponse {
  dataset: string;
  datasetVersion: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  results: RecordResult[];
}

export type HttpIngestOutcome =
  | { kind: 'done'; response: IngestResponse }
  | { kind: 'refused'; status: 400 | 404 | 413 | 415; error: string; message: string }
  | { kind: 'unavailable'; error: string; message: string };

interface Judged {
  item: BodyItem;
  verdict?: RecordVerdict;
  duplicate?: boolean;
  event?: CloudEvent<typeof EventTypes.DataValidatedV1> | CloudEvent<typeof EventTypes.DataRejectedV1>;
  tooLarge?: string;
}

const NOTHING_ACCEPTED = 'nothing of this request may be considered accepted; retry it (records with a recordId are deduplicated)';

/** Validates records against their dataset and emits mlops.data.validated.v1 or mlops.data.rejected.v1 for each. */
@Injectable()
export class IngestRecordsService {
  private readonly logger = new Logger('ingestion:records');
  private readonly hash: Hasher | undefined;

  constructor(
    private readonly datasets: DatasetStore,
    private readonly validators: RecordValidators,
    private readonly acceptedRecords: AcceptedRecords,
    private readonly producer: EventProducer,
    private readonly quality: QualityTracker,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {
    this.hash = config.INGESTION_HASH_KEY !== undefined ? hmacHasher(config.INGESTION_HASH_KEY) : undefined;
  }

  /** Records over HTTP: answered per record, and only once Kafka has acknowledged every event. */
  async ingestHttp(name: string, version: number | undefined, contentType: string | undefined, body: RawBody, now = new Date()): Promise<HttpIngestOutcome> {
    if (body.tooLarge) {
      return { kind: 'refused', status: 413, error: 'body_too_large', message: `the body is larger than ${this.config.INGESTION_MAX_BODY_BYTES} bytes (INGESTION_MAX_BODY_BYTES); split it` };
    }
    const parsed = parseRecordsBody(contentType, body.text, this.config.INGESTION_MAX_BATCH);
    if (!parsed.ok) return { kind: 'refused', ...parsed.error };
    const dataset = version === undefined ? await this.datasets.latest(name) : await this.datasets.version(name, version);
    if (!dataset) {
      const what = version === undefined ? `dataset "${name}" is not registered` : `dataset "${name}" has no version ${version}`;
      return { kind: 'refused', status: 404, error: 'unknown_dataset', message: `${what}; register it with PUT /datasets/${name}` };
    }
    if (needsHashKey(dataset.sensitiveFields) && !this.hash) {
      return { kind: 'unavailable', error: 'hash_key_missing', message: `dataset "${name}" has fields to hash but INGESTION_HASH_KEY is not configured; ${NOTHING_ACCEPTED}` };
    }

    const correlationId = randomUUID();
    const judged: Judged[] = parsed.value.map((item) => {
      if (!item.ok) return { item };
      return { item, verdict: checkRecord(dataset, item.record, this.validators.validate(dataset, item.record)) };
    });
    await this.markDuplicates(dataset.name, judged);
    for (const j of judged) {
      if (!j.item.ok || !j.verdict || j.duplicate) continue;
      // Without a record id the source event id is random, so an id derived from it would be random too: skip the SHA-1.
      const origin: RecordOrigin = {
        sourceEventId: httpRecordEventId(dataset.name, j.item.recordId, randomUUID),
        ...(j.item.recordId !== undefined ? { recordId: j.item.recordId } : { eventId: randomUUID() }),
        correlationId,
      };
      j.event = j.verdict.ok
        ? validatedEvent(dataset, j.verdict, origin, this.hash, now)
        : rejectedEvent(dataset.name, dataset, j.item.record, j.verdict.entityId, j.verdict.errors, origin, this.hash, now);
    }

    const failure = await this.publish(judged);
    if (failure) return { kind: 'unavailable', error: 'kafka_unavailable', message: `Kafka did not acknowledge the events (${failure}); ${NOTHING_ACCEPTED}` };

    const acceptedIds = judged.filter((j) => j.item.ok && j.item.recordId !== undefined && j.verdict?.ok && !j.duplicate && !j.tooLarge && j.event);
    await this.acceptedRecords
      .markAccepted(dataset.name, acceptedIds.map((j) => ({ recordId: (j.item as { recordId: string }).recordId, eventId: j.event!.id })))
      .catch((error: unknown) => this.logger.warn(`could not remember accepted record ids of ${dataset.name} (consumers' inboxes still drop retries): ${(error as Error).message}`));
    return { kind: 'done', response: this.account(dataset, judged) };
  }

  /** A record from Kafka, inside the inbox transaction: the outcome leaves through the outbox. */
  async ingestEvent(event: CloudEvent<typeof EventTypes.DataRecordV1>, manager: EntityManager, now = new Date()): Promise<void> {
    const { dataset: name, datasetVersion, entityId, record, recordId } = event.data;
    const origin: RecordOrigin = { sourceEventId: event.id, ...(recordId !== undefined ? { recordId } : {}), causedBy: event };
    const dataset = datasetVersion === undefined ? await this.datasets.latest(name, manager) : await this.datasets.version(name, datasetVersion);
    if (!dataset) {
      const what = datasetVersion === undefined ? `dataset "${name}" is not registered` : `dataset "${name}" has no version ${datasetVersion}`;
      const errors: RecordError[] = [{ kind: 'unknown_dataset', path: '', keyword: 'dataset', message: `${what}; the record is withheld because its sensitive fields are unknown (replay event ${event.id} once registered)` }];
      await this.enqueue(manager, rejectedEvent(name, undefined, {}, entityId, errors, origin, this.hash, now));
      this.quality.rejected(undefined, errors);
      return;
    }
    if (needsHashKey(dataset.sensitiveFields) && !this.hash) {
      throw new PermanentHandlerError(`dataset "${name}" has fields to hash but INGESTION_HASH_KEY is not configured`);
    }
    const verdict = checkRecord(dataset, record as Parameters<typeof checkRecord>[1], this.validators.validate(dataset, record), entityId);
    if (!verdict.ok) {
      await this.enqueue(manager, rejectedEvent(name, dataset, record as Parameters<typeof checkRecord>[1], verdict.entityId, verdict.errors, origin, this.hash, now));
      this.quality.rejected(name, verdict.errors);
      return;
    }
    const validated = validatedEvent(dataset, verdict, origin, this.hash, now);
    if (recordId !== undefined && (await this.acceptedRecords.markAccepted(name, [{ recordId, eventId: validated.id }], manager)).size === 0) {
      this.quality.duplicate(name);
      return;
    }
    await this.enqueue(manager, validated);
    this.quality.accepted(name, verdict.values);
  }

  private async enqueue(manager: EntityManager, event: CloudEvent<typeof EventTypes.DataValidatedV1> | CloudEvent<typeof EventTypes.DataRejectedV1>): Promise<void> {
    // An oversized row would block the outbox relay forever: refuse it here, the record event is dead-lettered.
    const size = encodeEvent(event).value.length;
    if (size > this.config.MAX_EVENT_BYTES) throw new PermanentHandlerError(`${event.type} for this record would be ${size} bytes, over MAX_EVENT_BYTES ${this.config.MAX_EVENT_BYTES}`);
    await enqueueInOutbox(manager, PG_SCHEMA, event);
  }

  /** A record id accepted before (or earlier in the same request) is a duplicate: answered, not emitted again. */
  private async markDuplicates(dataset: string, judged: Judged[]): Promise<void> {
    const candidates = judged.filter((j) => j.item.ok && j.item.recordId !== undefined && j.verdict?.ok);
    const known = await this.acceptedRecords.alreadyAccepted(dataset, candidates.map((j) => (j.item as { recordId: string }).recordId));
    const seen = new Set<string>();
    for (const j of candidates) {
      const recordId = (j.item as { recordId: string }).recordId;
      if (known.has(recordId) || seen.has(recordId)) j.duplicate = true;
      seen.add(recordId);
    }
  }

  /** Publishes every event; returns why Kafka failed, if it did. An event too large for Kafka only fails its record. */
  private async publish(judged: Judged[]): Promise<string | undefined> {
    const pending = judged.filter((j) => j.event);
    const sends = Promise.allSettled(
      pending.map((j) => {
        try {
          return this.producer.publish(j.event!);
        } catch (error) {
          return Promise.reject(error);
        }
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.INGESTION_PUBLISH_TIMEOUT_MS);
    });
    const settled = await Promise.race([sends, timeout]).finally(() => clearTimeout(timer));
    if (settled === 'timeout') return `no acknowledgement within ${this.config.INGESTION_PUBLISH_TIMEOUT_MS} ms`;
    let failure: string | undefined;
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const error = result.reason as Error;
      if (error instanceof EventTooLargeError) pending[i]!.tooLarge = error.message;
      else failure ??= error.message;
    });
    if (failure) this.logger.error(`publishing records failed: ${failure}`);
    return failure;
  }

  /** Counts each record's outcome (metrics, quality window) and builds the per-record answer. */
  private account(dataset: DatasetVersion, judged: Judged[]): IngestResponse {
    const acceptedValues: Array<Record<string, unknown>> = [];
    const results = judged.map((j): RecordResult => {
      const base = { index: j.item.index, ...(j.item.line !== undefined ? { line: j.item.line } : {}), ...(j.item.ok && j.item.recordId !== undefined ? { recordId: j.item.recordId } : {}) };
      if (!j.item.ok) {
        this.quality.malformed(dataset.name);
        return { ...base, status: 'rejected', errors: [{ kind: 'malformed_json', path: '', message: j.item.error }] };
      }
      const verdict = j.verdict!;
      const withEntity = { ...base, entityId: verdict.entityId };
      if (j.tooLarge) {
        this.quality.rejected(dataset.name, []);
        return { ...withEntity, status: 'rejected', errors: [{ kind: 'too_large', path: '', message: j.tooLarge }] };
      }
      if (!verdict.ok) {
        this.quality.rejected(dataset.name, verdict.errors);
        return { ...withEntity, status: 'rejected', eventId: j.event!.id, errors: verdict.errors.map(({ kind, path, message }) => ({ kind, path, message })) };
      }
      if (j.duplicate) {
        this.quality.duplicate(dataset.name);
        return { ...withEntity, status: 'accepted', duplicate: true };
      }
      acceptedValues.push(verdict.values);
      return { ...withEntity, status: 'accepted', eventId: j.event!.id };
    });
    this.quality.acceptedAll(dataset.name, acceptedValues);
    return {
      dataset: dataset.name,
      datasetVersion: dataset.version,
      accepted: results.filter((r) => r.status === 'accepted').length,
      rejected: results.filter((r) => r.status === 'rejected').length,
      duplicates: results.filter((r) => r.duplicate).length,
      results,
    };
  }
}
