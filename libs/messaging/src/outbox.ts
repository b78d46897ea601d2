import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { EventType } from '@mlops/contracts';
import { assertEventData } from '@mlops/contracts';
import { type CloudEvent, type EncodedMessage, encodeEvent } from './cloud-event';
import type { MessagingMetrics } from './metrics';
import type { EventProducer } from './producer';

/** Writes an event to the outbox in the caller's transaction: it is published if and only if that commits. */
export async function enqueueInOutbox<T extends EventType>(manager: EntityManager, schema: string, event: CloudEvent<T>): Promise<void> {
  await enqueueManyInOutbox(manager, schema, [event]);
}

/** Several events in one statement, in the given order (their ids, hence their publishing order, follow it). */
export async function enqueueManyInOutbox(manager: EntityManager, schema: string, events: readonly CloudEvent[]): Promise<void> {
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
export async function insertIntoOutbox(manager: EntityManager, schema: string, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await manager.query(
    `INSERT INTO "${schema}".outbox (topic, key, headers, value)
     SELECT u.topic, u.key, u.headers::jsonb, u.value
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY AS u(topic, key, headers, value, ord) ORDER BY u.ord`,
    [messages.map((m) => m.topic), messages.map((m) => m.message.key), messages.map((m) => JSON.stringify(m.message.headers)), messages.map((m) => m.message.value)],
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

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: Buffer;
}

/**
 * Publishes outbox rows in id order, then deletes them. One relay per schema holds an advisory lock,
 * so rows of one key leave in the order they were written even with several replicas.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private lockRunner?: QueryRunner;
  private readonly lockKey: string;

  constructor(private readonly options: OutboxRelayOptions) {
    this.lockKey = `outbox:${options.schema}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.lockRunner) {
      await this.lockRunner.query('SELECT pg_advisory_unlock(hashtext($1))', [this.lockKey]).catch(() => undefined);
      await this.lockRunner.release();
      this.lockRunner = undefined;
    }
  }

  /** Publishes what is pending now; returns how many rows went out (used by tests and shutdown). */
  async publishPending(): Promise<number> {
    const { dataSource, schema, producer, batchSize = 500 } = this.options;
    let total = 0;
    for (;;) {
      const rows: OutboxRow[] = await dataSource.query(
        `SELECT id, topic, key, headers, value FROM "${schema}".outbox ORDER BY id LIMIT $1`,
        [batchSize],
      );
      if (rows.length === 0) break;
      await Promise.all(rows.map((r) => producer.send(r.topic, { key: r.key, value: r.value, headers: r.headers })));
      // Exactly the rows sent: a transaction that took a lower id but commits later is still pending, not lost.
      await dataSource.query(`DELETE FROM "${schema}".outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
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
          const [{ n }] = await this.options.dataSource.query(`SELECT count(*)::int AS n FROM "${this.options.schema}".outbox`);
          this.options.metrics.outboxPending.set({ schema: this.options.schema }, n);
        }
      } catch (error) {
        this.options.logger?.error(`outbox relay for ${this.options.schema}: ${(error as Error).message}`);
        await this.dropLock();
      }
      await sleep(pollIntervalMs);
    }
  }

  private async holdLock(): Promise<boolean> {
    if (this.lockRunner) return true;
    const runner = this.options.dataSource.createQueryRunner();
    await runner.connect();
    const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [this.lockKey]);
    if (!locked) {
      await runner.release();
      return false;
    }
    this.lockRunner = runner;
    return true;
  }

  private async dropLock(): Promise<void> {
    const runner = this.lockRunner;
    this.lockRunner = undefined;
    if (runner) await runner.release().catch(() => undefined);
  }
}
