import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventTypes } from '@mlops/contracts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type CloudEvent, encodeEvent, enqueueInOutbox } from '@mlops/messaging';
import type { JsonObject } from '../../domain/json';
import { checkRecordEvent } from '../../domain/record-check';
import { eventTimeRange } from '../../domain/record-guards';
import { type Hasher, needsHashKey } from '../../domain/sensitive-fields';
import { AcceptedRecords } from '../../infrastructure/accepted-records';
import { DatasetStore } from '../../infrastructure/dataset-store';
import { RecordValidators } from '../../infrastructure/record-validators';
import { QualityTracker } from '../../quality/quality-tracker';
import type { IngestionConfig } from '../../config';
import { INGESTION_CONFIG, PG_SCHEMA } from '../../tokens';
import {
  type RecordOrigin,
  knownAtOf,
  recordHasher,
  rejectedEvent,
  validatedEvent,
  withheldEvent,
} from './record-events';

/** What became of a record event; `withheld`: its dataset is not registered (rejected, record left out). */
export type RecordEventOutcome = 'validated' | 'rejected' | 'duplicate' | 'withheld';

/** Failures no redelivery can cure: the record event belongs in the dead-letter topic. */
export type IngestRecordEventErrorKind = 'hash_key_missing' | 'event_too_large';

/**
 * A record from Kafka, inside the inbox transaction: checked against its dataset, and its validated or rejected
 * event written to the outbox in the same transaction.
 */
@Injectable()
export class IngestRecordEventService {
  private readonly hash: Hasher | undefined;

  constructor(
    private readonly datasets: DatasetStore,
    private readonly validators: RecordValidators,
    private readonly acceptedRecords: AcceptedRecords,
    private readonly quality: QualityTracker,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {
    this.hash = recordHasher(config.INGESTION_HASH_KEY);
  }

  async ingest(
    event: CloudEvent<typeof EventTypes.DataRecordV1>,
    manager: EntityManager,
    now = new Date(),
  ): Promise<Result<RecordEventOutcome, DomainError<IngestRecordEventErrorKind>>> {
    const { dataset: name, datasetVersion, entityId, recordId } = event.data;
    const record = event.data.record as JsonObject;
    const origin: RecordOrigin = { via: 'kafka', event, recordId };
    const dataset =
      datasetVersion === undefined
        ? await this.datasets.latest(name, manager)
        : await this.datasets.version(name, datasetVersion);
    const input = {
      dataset: name,
      ...(datasetVersion !== undefined ? { datasetVersion } : {}),
      entityId,
      ...(recordId !== undefined ? { recordId } : {}),
      record,
      eventId: event.id,
    };
    const range = eventTimeRange(now, this.config.INGESTION_MAX_FUTURE_SKEW_SECONDS);
    const checked = checkRecordEvent(dataset, input, (version, r) => this.validators.validate(version, r), range);
    if (checked.kind === 'unknown_dataset') {
      const enqueued = await this.enqueue(manager, withheldEvent(name, entityId, checked.errors, origin, now));
      if (!enqueued.ok) return enqueued;
      this.quality.rejected(undefined, checked.errors, manager);
      return ok('withheld');
    }
    if (needsHashKey(checked.dataset.sensitiveFields) && !this.hash) {
      return err(
        domainError('hash_key_missing', `dataset "${name}" has fields to hash but this service has no hash key`),
      );
    }
    const { verdict } = checked;
    if (!verdict.ok) {
      const enqueued = await this.enqueue(
        manager,
        rejectedEvent(checked.dataset, record, verdict, origin, this.hash, now),
      );
      if (!enqueued.ok) return enqueued;
      this.quality.rejected(name, verdict.errors, manager);
      return ok('rejected');
    }
    const knownAt = knownAtOf(event.data.knownAt, undefined, verdict.eventTime, now);
    const validated = validatedEvent(checked.dataset, verdict, origin, this.hash, now, knownAt);
    const tooLarge = this.tooLarge(validated);
    if (tooLarge) return err(tooLarge);
    if (
      recordId !== undefined &&
      (await this.acceptedRecords.markAccepted(name, [{ recordId, eventId: validated.id }], manager)).size === 0
    ) {
      this.quality.duplicate(name, manager);
      return ok('duplicate');
    }
    await enqueueInOutbox(manager, PG_SCHEMA, validated);
    this.quality.accepted(name, verdict.values, manager);
    return ok('validated');
  }

  private async enqueue(
    manager: EntityManager,
    event: CloudEvent,
  ): Promise<Result<void, DomainError<'event_too_large'>>> {
    const tooLarge = this.tooLarge(event);
    if (tooLarge) return err(tooLarge);
    await enqueueInOutbox(manager, PG_SCHEMA, event);
    return ok(undefined);
  }

  /** An oversized outbox row would block the relay forever: such an event is refused before it is written. */
  private tooLarge(event: CloudEvent): DomainError<'event_too_large'> | undefined {
    const size = encodeEvent(event).value.length;
    const limit = this.config.MAX_EVENT_BYTES;
    return size > limit
      ? domainError(
          'event_too_large',
          `${event.type} for this record would be ${size} bytes, over the ${limit} bytes an event may have`,
        )
      : undefined;
  }
}
