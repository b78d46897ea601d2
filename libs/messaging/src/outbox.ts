import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventType } from '@mlops/contracts';
import { assertEventData } from '@mlops/contracts';
import { AdvisoryLockScope, type SessionLock, execute, query } from '@mlops/storage';
import { type CloudEvent, type EncodedMessage, encodeEvent } from './cloud-event';
import { safeErrorSummary } from './errors';
import type { MessagingMetrics } from './metrics';
import { messagingTables } from './migrations';
import type { EventProducer } from './producer';

/** Writes an event to the outbox in the caller's transaction: it is published if and only if that commits. */
export async function enqueueInOutbox<T extends EventType>(
  manager: EntityManager,
  schema: string,
  event: CloudEvent<T>,
): Promise<void> {
  await enqueueManyInOutbox(manager, schema, [event]);
}

/** Several events in one statement, in the given order (their ids, hence their publishing order, follow it). */
export async function enqueueManyInOutbox(
  manager: EntityManager,
  schema: string,
  events: readonly CloudEvent[],
): Promise<void> {
  await insertIntoOutbox(manager, schema, events.map(outboxMessageOf));
}

/** An event checked against its schema and encoded, ready for the outbox. */
export interface OutboxMessage {
  readonly topic: string;
  readonly message: EncodedMessage;
}

/** Checks and encodes an event once, when it is made (a handler that keeps events for later fails on a bad one at once). */
export function outboxMessageOf(event: CloudEvent): OutboxMessage {
  assertEventData(event.type, event.data);
  return { topic: event.type, message: encodeEvent(event) };
}

/** Writes checked messages to the outbox in one statement, in order. */
export async function insertIntoOutbox(
  manager: EntityManager,
  schema: string,
  messages: readonly OutboxMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  await execute(
    manager,
    `INSERT INTO ${messagingTables(schema).outbox} (topic, key, headers, value)
     SELECT u.topic, u.key, u.headers::jsonb, u.value
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY AS u(topic, key, headers, value, ord) ORDER BY u.ord`,
    [
      messages.map((m) => m.topic),
      messages.map((m) => m.message.key),
      messages.map((m) => JSON.stringify(m.message.headers)),
      messages.map((m) => m.message.value),
    ],
  );
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  schema: string;
  producer: EventProducer;
  metrics: MessagingMetrics;
  pollIntervalMs?: number;
  batchSize?: number;
  logger?: { error(message: string): void };
}

/** One row of the outbox table (bigserial ids come back as strings). */
interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: Buffer;
}

/** One relay per schema publishes: the key is the schema. */
const RELAY_LOCK = new AdvisoryLockScope('messaging', 'outbox-relay');

/**
 * Publishes outbox rows in id order, then deletes them. One relay per schema holds an advisory lock,
 * so rows of one key leave in the order they were written even with several replicas.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private lock: SessionLock | undefined;
  private readonly outbox: string;

  constructor(private readonly options: OutboxRelayOptions) {
    this.outbox = messagingTables(options.schema).outbox;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.dropLock();
  }

  /**
   * The last pass at shutdown, under the relay lock like every pass: when another replica's relay holds it, that
   * relay publishes what is left (two relays reading the same rows would send them twice).
   */
  async drain(): Promise<number> {
    if (!(await this.holdLock())) return 0;
    try {
      return await this.publishPending();
    } finally {
      await this.dropLock();
    }
  }

  /** Publishes what is pending now, whoever holds the lock; returns how many rows went out (tests, drain). */
  async publishPending(): Promise<number> {
    const { dataSource, producer, batchSize = 500 } = this.options;
    let total = 0;
    for (;;) {
      const rows = await query<OutboxRow>(
        dataSource.manager,
        `SELECT id, topic, key, headers, value FROM ${this.outbox} ORDER BY id LIMIT $1`,
        [batchSize],
      );
      if (rows.length === 0) break;
      await Promise.all(rows.map((r) => producer.send(r.topic, { key: r.key, value: r.value, headers: r.headers })));
      // Exactly the rows sent: a transaction that took a lower id but commits later is still pending, not lost.
      await execute(dataSource.manager, `DELETE FROM ${this.outbox} WHERE id = ANY($1::bigint[])`, [
        rows.map((r) => r.id),
      ]);
      total += rows.length;
    }
    return total;
  }

  private async run(): Promise<void> {
    const { pollIntervalMs = 100 } = this.options;
    while (this.running) {
      try {
        if (await this.holdLock()) {
          const sent = await this.publishPending();
          if (sent > 0) continue;
          const [pending] = await query<{ n: number }>(
            this.options.dataSource.manager,
            `SELECT count(*)::int AS n FROM ${this.outbox}`,
          );
          this.options.metrics.outboxPending.set({ schema: this.options.schema }, pending?.n ?? 0);
        }
      } catch (error) {
        // A summary, never the message: a failed statement or send may quote the values of the rows it carried.
        this.options.logger?.error(`outbox relay for ${this.options.schema}: ${safeErrorSummary(error)}`);
        await this.dropLock();
      }
      await sleep(pollIntervalMs);
    }
  }

  private async holdLock(): Promise<boolean> {
    this.lock ??= await RELAY_LOCK.tryLockForSession(this.options.dataSource, this.options.schema);
    return this.lock !== undefined;
  }

  /** Unlocks, or closes the lock's connection when it cannot: a lock left on a pooled connection would outlive the relay. */
  private async dropLock(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }
}
