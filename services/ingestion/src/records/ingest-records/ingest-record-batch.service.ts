import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type CloudEvent, EventProducer, EventTooLargeError } from '@mlops/messaging';
import { type DatasetVersion, unknownDataset } from '../../domain/dataset';
import {
  type BatchAnswer,
  type Delivery,
  type EmittingDecision,
  type ItemOutcome,
  acceptedRecordIds,
  batchAnswer,
  decideBatch,
  recordKeysOf,
  settle,
} from '../../domain/record-batch';
import { eventTimeRange } from '../../domain/record-guards';
import { type BodyErrorKind, parseRecordsBody } from '../../domain/records-body';
import { type Hasher, needsHashKey } from '../../domain/sensitive-fields';
import { AcceptedRecords } from '../../infrastructure/accepted-records';
import { DatasetStore } from '../../infrastructure/dataset-store';
import { RecordValidators } from '../../infrastructure/record-validators';
import { QualityTracker } from '../../quality/quality-tracker';
import type { IngestionConfig } from '../../config';
import { INGESTION_CONFIG } from '../../tokens';
import { type RecordOrigin, knownAtOf, recordHasher, rejectedEvent, validatedEvent } from './record-events';

/** A body as read off the wire, before any parsing. */
export type RawBody = { tooLarge: false; text: string } | { tooLarge: true; bytes: number };

/** A batch of records for one dataset (the latest version, or the one asked for). */
export interface IngestBatchCommand {
  dataset: string;
  version: number | undefined;
  contentType: string | undefined;
  body: RawBody;
  /** `event-time`: every record was known at its event time (a history import); default: known when it arrives. */
  knownAt?: 'event-time';
}

/** Why a whole batch is refused; `hash_key_missing` and `kafka_unavailable` are the service's fault, not the caller's. */
export type IngestBatchErrorKind =
  BodyErrorKind | 'body_too_large' | 'unknown_dataset' | 'hash_key_missing' | 'kafka_unavailable';

const NOTHING_ACCEPTED =
  'nothing of this request may be considered accepted; retry it (records with a recordId are deduplicated)';

/**
 * Records over HTTP: every record is checked, its validated or rejected event published to Kafka, and the batch
 * is answered per record only once Kafka has acknowledged every event.
 */
@Injectable()
export class IngestRecordBatchService {
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
    this.hash = recordHasher(config.INGESTION_HASH_KEY);
  }

  async ingest(
    command: IngestBatchCommand,
    now = new Date(),
  ): Promise<Result<BatchAnswer, DomainError<IngestBatchErrorKind>>> {
    const { dataset: name, version, body } = command;
    if (body.tooLarge) {
      const limit = this.config.INGESTION_MAX_BODY_BYTES;
      return err(
        domainError('body_too_large', `the body is larger than the ${limit} bytes allowed per request; split it`, {
          limit,
        }),
      );
    }
    const items = parseRecordsBody(command.contentType, body.text, this.config.INGESTION_MAX_BATCH);
    if (!items.ok) return items;
    // Both reads at once (two pooled connections): the events leave one round trip sooner.
    const [dataset, acceptedBefore] = await Promise.all([
      version === undefined ? this.datasets.latest(name) : this.datasets.version(name, version),
      this.acceptedRecords.alreadyAccepted(name, recordKeysOf(name, items.value)),
    ]);
    if (!dataset) {
      const unknown = unknownDataset(name, version);
      return err({ ...unknown, message: `${unknown.message}; register it with PUT /datasets/${name}` });
    }
    if (needsHashKey(dataset.sensitiveFields) && !this.hash) {
      return err(
        domainError(
          'hash_key_missing',
          `dataset "${name}" has fields to hash but this service has no hash key; ${NOTHING_ACCEPTED}`,
        ),
      );
    }

    const decisions = decideBatch(
      dataset,
      items.value,
      (record) => this.validators.validate(dataset, record),
      acceptedBefore,
      eventTimeRange(now, this.config.INGESTION_MAX_FUTURE_SKEW_SECONDS),
    );
    const requestId = randomUUID();
    const emitting = decisions.filter((d): d is EmittingDecision => d.kind === 'valid' || d.kind === 'invalid');
    const events = emitting.map((decision) => this.eventFor(dataset, decision, requestId, now, command.knownAt));
    const deliveries = await this.publish(events);
    if (!deliveries.ok) return deliveries;
    const deliveryOf = new Map(emitting.map((decision, i) => [decision, deliveries.value[i]!]));
    const outcomes = decisions.map((decision) => settle(decision, (emitted) => deliveryOf.get(emitted)!));

    await this.acceptedRecords
      .markAccepted(dataset.name, acceptedRecordIds(outcomes))
      .catch((error: unknown) =>
        this.logger.warn(
          `could not remember accepted record ids of ${dataset.name} (consumers' inboxes still drop retries): ${(error as Error).message}`,
        ),
      );
    this.count(dataset.name, outcomes);
    return ok(batchAnswer(dataset, outcomes));
  }

  private eventFor(
    dataset: DatasetVersion,
    decision: EmittingDecision,
    requestId: string,
    now: Date,
    knownAtMode: 'event-time' | undefined,
  ): CloudEvent {
    const { recordId } = decision.item;
    const origin: RecordOrigin = { via: 'http', requestId, recordId, recordKey: decision.recordKey };
    return decision.kind === 'valid'
      ? validatedEvent(
          dataset,
          decision.verdict,
          origin,
          this.hash,
          now,
          knownAtOf(decision.item.knownAt, knownAtMode, decision.verdict.eventTime, now),
        )
      : rejectedEvent(dataset, decision.item.record, decision.verdict, origin, this.hash, now);
  }

  /** Publishes every event: each one's delivery, or why Kafka failed. An event too large for Kafka only fails its record. */
  private async publish(events: readonly CloudEvent[]): Promise<Result<Delivery[], DomainError<'kafka_unavailable'>>> {
    const sends = Promise.allSettled(
      events.map((event) => {
        try {
          return this.producer.publish(event);
        } catch (error) {
          return Promise.reject(error);
        }
      }),
    );
    const timeoutMs = this.config.INGESTION_PUBLISH_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const settled = await Promise.race([sends, timeout]).finally(() => clearTimeout(timer));
    let failure = settled === 'timeout' ? `no acknowledgement within ${timeoutMs} ms` : undefined;
    const deliveries: Delivery[] = [];
    if (settled !== 'timeout') {
      settled.forEach((result, i) => {
        if (result.status === 'fulfilled') deliveries.push({ kind: 'sent', eventId: events[i]!.id });
        else if (result.reason instanceof EventTooLargeError)
          deliveries.push({ kind: 'too_large', reason: result.reason.message });
        else failure ??= (result.reason as Error).message;
      });
    }
    if (failure === undefined) return ok(deliveries);
    this.logger.error(`publishing records failed: ${failure}`);
    return err(
      domainError('kafka_unavailable', `Kafka did not acknowledge the events (${failure}); ${NOTHING_ACCEPTED}`),
    );
  }

  /** Each record's outcome in the metrics and the quality window. */
  private count(dataset: string, outcomes: readonly ItemOutcome[]): void {
    const acceptedValues: Array<Record<string, unknown>> = [];
    for (const outcome of outcomes) {
      switch (outcome.kind) {
        case 'unreadable':
          this.quality.malformed(dataset);
          break;
        case 'too_large':
          this.quality.rejected(dataset, []);
          break;
        case 'rejected':
          this.quality.rejected(dataset, outcome.verdict.errors);
          break;
        case 'duplicate':
          this.quality.duplicate(dataset);
          break;
        case 'accepted':
          acceptedValues.push(outcome.verdict.values);
      }
    }
    this.quality.acceptedAll(dataset, acceptedValues);
  }
}
