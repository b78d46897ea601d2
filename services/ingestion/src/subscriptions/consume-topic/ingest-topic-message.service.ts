import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { EventTypes } from '@mlops/contracts';
import { type CloudEvent, claimInInbox, enqueueInOutbox, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { uuidV5 } from '../../domain/event-ids';
import type { JsonObject } from '../../domain/json';
import { type RecordError, UNKNOWN_ENTITY } from '../../domain/record-check';
import { DatasetStore } from '../../infrastructure/dataset-store';
import { QualityTracker } from '../../quality/quality-tracker';
import { IngestRecordEventService } from '../../records/ingest-records/ingest-record-event.service';
import { type RecordOrigin, rejectedEvent, withheldEvent } from '../../records/ingest-records/record-events';
import { PG_SCHEMA } from '../../tokens';
import { type Subscription, type TopicMessage, consumerGroupOf, mapMessage } from '../subscription';

/** Where a message sits in its topic: what makes it the same message when Kafka delivers it again. */
export interface TopicPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** What became of a message: the record use case's outcome, or skipped, malformed (rejected), or a duplicate. */
export type TopicMessageOutcome = 'validated' | 'rejected' | 'duplicate' | 'withheld' | 'skipped' | 'malformed';

/**
 * One message of a subscribed topic, in one transaction: the inbox claim (keyed by topic, partition and offset,
 * per subscription), the record use case of mlops.data.record.v1 (validated or rejected into the outbox), or the
 * rejection of a message that is no record at all. The consumer commits the offset only after this returns.
 */
@Injectable()
export class IngestTopicMessageService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly datasets: DatasetStore,
    private readonly records: IngestRecordEventService,
    private readonly quality: QualityTracker,
  ) {}

  /** One message in a transaction of its own. */
  ingest(
    subscription: Subscription,
    position: TopicPosition,
    message: TopicMessage,
    now = new Date(),
  ): Promise<TopicMessageOutcome> {
    return this.dataSource.transaction((manager) => this.ingestIn(manager, subscription, position, message, now));
  }

  /** Consecutive messages of one partition in one transaction: all their effects, or (on any failure) none. */
  ingestMany(
    subscription: Subscription,
    messages: ReadonlyArray<{ position: TopicPosition; message: TopicMessage }>,
    now = new Date(),
  ): Promise<TopicMessageOutcome[]> {
    return this.dataSource.transaction(async (manager) => {
      const outcomes: TopicMessageOutcome[] = [];
      for (const { position, message } of messages)
        outcomes.push(await this.ingestIn(manager, subscription, position, message, now));
      return outcomes;
    });
  }

  /**
   * The mlops.data.record.v1 event a message becomes (what a dead letter of it keeps: a redrive of the record topic
   * then runs the record use case on it, under the same event id), or undefined when it is no record of its dataset.
   */
  async recordEventFor(
    subscription: Subscription,
    position: TopicPosition,
    message: TopicMessage,
    now = new Date(),
  ): Promise<CloudEvent<typeof EventTypes.DataRecordV1> | undefined> {
    const dataset = await this.datasets.latest(subscription.dataset);
    if (!dataset) return undefined;
    const mapped = mapMessage(subscription, dataset, message);
    return mapped.kind === 'record' ? recordEventOf(subscription.dataset, mapped, position, now) : undefined;
  }

  private async ingestIn(
    manager: EntityManager,
    subscription: Subscription,
    position: TopicPosition,
    message: TopicMessage,
    now: Date,
  ): Promise<TopicMessageOutcome> {
    const { id, source } = recordEventIdOf(position);
    const consumer = consumerGroupOf(subscription.dataset, subscription.topic);
    const inboxEntry = { source, id, type: EventTypes.DataRecordV1 } as CloudEvent;
    if (!(await claimInInbox(manager, PG_SCHEMA, consumer, inboxEntry))) return 'duplicate';

    const origin: RecordOrigin = { via: 'kafka', event: { id, correlationid: id }, recordId: undefined };
    const where = `${position.topic}[${position.partition}]@${position.offset}`;
    const dataset = await this.datasets.latest(subscription.dataset, manager);
    if (!dataset) {
      // Datasets are never removed and a subscription needs one: only a dataset row gone by hand leads here.
      const errors: RecordError[] = [
        { kind: 'unknown_dataset', path: '', keyword: 'dataset', message: `dataset not registered (${where})` },
      ];
      await enqueueInOutbox(
        manager,
        PG_SCHEMA,
        withheldEvent(subscription.dataset, UNKNOWN_ENTITY, errors, origin, now),
      );
      this.quality.rejected(undefined, errors, manager);
      return 'withheld';
    }
    const mapped = mapMessage(subscription, dataset, message);
    if (mapped.kind === 'skip') return 'skipped';
    if (mapped.kind === 'malformed') {
      const errors = mapped.errors.map((e) => ({ ...e, message: `${e.message} (${where})` }));
      const entityId = mapped.entityId ?? UNKNOWN_ENTITY;
      // The message is withheld ({}): before it is a record its fields cannot be told apart from sensitive ones.
      await enqueueInOutbox(
        manager,
        PG_SCHEMA,
        rejectedEvent(dataset, {}, { ok: false, entityId, errors }, origin, undefined, now),
      );
      this.quality.rejected(subscription.dataset, errors, manager);
      return 'malformed';
    }
    const event = recordEventOf(subscription.dataset, mapped, position, now);
    const outcome = await this.records.ingest(event, manager, now);
    if (outcome.ok) return outcome.value;
    // What would dead-letter a mlops.data.record.v1 event (no hash key, an oversized event) rejects this record:
    // an upstream topic has no dead-letter topic of ours, and the partition must not stall.
    const error: RecordError = {
      kind: 'constraint_violation',
      path: '',
      keyword: outcome.error.kind,
      message: `${outcome.error.message} (${where})`,
    };
    await enqueueInOutbox(
      manager,
      PG_SCHEMA,
      rejectedEvent(dataset, {}, { ok: false, entityId: mapped.entityId, errors: [error] }, origin, undefined, now),
    );
    this.quality.rejected(subscription.dataset, [error], manager);
    return 'rejected';
  }
}

/** The id and source of the record event of a message: its position, so a redelivered message is the same event. */
function recordEventIdOf(position: TopicPosition): { id: string; source: string } {
  return {
    id: uuidV5(`topic-message\u0000${position.topic}\u0000${position.partition}\u0000${position.offset}`),
    source: `urn:mlops:ingestion:topic:${position.topic}`,
  };
}

function recordEventOf(
  dataset: string,
  mapped: { entityId: string; record: JsonObject },
  position: TopicPosition,
  now: Date,
): CloudEvent<typeof EventTypes.DataRecordV1> {
  return newEvent(
    EventTypes.DataRecordV1,
    { dataset, entityId: mapped.entityId, record: mapped.record },
    { ...recordEventIdOf(position), time: now },
  );
}
