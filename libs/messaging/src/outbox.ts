import { createHash } from 'node:crypto';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
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
  // The notification reaches the relays of other processes when (and only if) the transaction commits.
  await execute(
    manager,
    `WITH inserted AS (
       INSERT INTO ${messagingTables(schema).outbox} (topic, key, headers, value)
       SELECT u.topic, u.key, u.headers::jsonb, u.value
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY AS u(topic, key, headers, value, ord) ORDER BY u.ord
       RETURNING 1)
     SELECT pg_notify($5, '') FROM (SELECT 1 FROM inserted LIMIT 1) AS written`,
    [
      messages.map((m) => m.topic),
      messages.map((m) => m.message.key),
      messages.map((m) => JSON.stringify(m.message.headers)),
      messages.map((m) => m.message.value),
      outboxChannel(schema),
    ],
  );
  wakeAfterCommit(manager, schema);
}

/** The LISTEN/NOTIFY channel of a schema's outbox (hashed when the name would pass Postgres' 63 bytes). */
export function outboxChannel(schema: string): string {
  const channel = `outbox_${schema}`;
  return Buffer.byteLength(channel) <= 63
    ? channel
    : `outbox_${createHash('sha256').update(schema).digest('hex').slice(0, 48)}`;
}

/** The wake-up calls of this process' relays, per schema. */
const relaysOf = new Map<string, Set<() => void>>();
/** The schemas whose outbox a transaction (its query runner) wrote to, until it ends. */
const outboxWritesOf = new WeakMap<QueryRunner, Set<string>>();
/** DataSources whose transaction ends the process watches. */
const watched = new WeakSet<DataSource>();

function wakeRelays(schema: string): void {
  for (const wake of relaysOf.get(schema) ?? []) wake();
}

/** Wakes this process' relays of the schema once the manager's transaction commits (at once outside one). */
function wakeAfterCommit(manager: EntityManager, schema: string): void {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) {
    wakeRelays(schema);
    return;
  }
  watchTransactionsOf(manager.connection);
  let schemas = outboxWritesOf.get(runner);
  if (!schemas) outboxWritesOf.set(runner, (schemas = new Set()));
  schemas.add(schema);
}

/** Releasing a savepoint also "commits" in TypeORM's events: only the end of the outer transaction counts. */
class OutboxCommitWatcher implements EntitySubscriberInterface {
  afterTransactionCommit(event: TransactionCommitEvent): void {
    if (event.queryRunner.isTransactionActive) return;
    const schemas = outboxWritesOf.get(event.queryRunner);
    outboxWritesOf.delete(event.queryRunner);
    for (const schema of schemas ?? []) wakeRelays(schema);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) outboxWritesOf.delete(event.queryRunner);
  }
}

function watchTransactionsOf(dataSource: DataSource): void {
  if (watched.has(dataSource)) return;
  watched.add(dataSource);
  dataSource.subscribers.push(new OutboxCommitWatcher());
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  schema: string;
  producer: EventProducer;
  metrics: MessagingMetrics;
  /**
   * Wake as soon as a transaction that wrote outbox rows commits: at once for this process' transactions, through
   * Postgres LISTEN/NOTIFY for other processes' (replicas of the service). Default true; the poll stays as a fallback.
   */
  wakeOnCommit?: boolean;
  /** Time between passes when nothing wakes the relay: default 1000 ms when it wakes on commit, else 100 ms. */
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

/** The part of a pooled pg client the relay listens on. */
interface ListeningClient {
  query(sql: string): Promise<unknown>;
  on(event: 'notification' | 'error', listener: () => void): void;
  removeListener(event: 'notification' | 'error', listener: () => void): void;
}

interface Listener {
  readonly client: ListeningClient;
  /** Gives the connection back to the pool; with an error the pool closes it instead. */
  readonly release: (error?: Error) => void;
  broken: boolean;
  readonly onNotice: () => void;
  onError: () => void;
}

/** One relay per schema publishes: the key is the schema. */
const RELAY_LOCK = new AdvisoryLockScope('messaging', 'outbox-relay');

/**
 * Publishes outbox rows in id order, then deletes them. One relay per schema holds an advisory lock,
 * so rows of one key leave in the order they were written even with several replicas. It runs a pass when a
 * transaction that wrote rows commits (see wakeOnCommit), and every pollIntervalMs in case a wake-up was missed.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private lock: SessionLock | undefined;
  private listener: Listener | undefined;
  private readonly outbox: string;
  private readonly wakeOnCommit: boolean;
  /** Set by a wake-up; the loop runs another pass instead of sleeping. */
  private woken = false;
  private wakeNap: (() => void) | undefined;
  private readonly wake = (): void => {
    this.woken = true;
    this.wakeNap?.();
  };

  constructor(private readonly options: OutboxRelayOptions) {
    this.outbox = messagingTables(options.schema).outbox;
    this.wakeOnCommit = options.wakeOnCommit ?? true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.wakeOnCommit) {
      let relays = relaysOf.get(this.options.schema);
      if (!relays) relaysOf.set(this.options.schema, (relays = new Set()));
      relays.add(this.wake);
      // This process' own transactions are watched from the start, not only once one has written a row.
      watchTransactionsOf(this.options.dataSource);
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    relaysOf.get(this.options.schema)?.delete(this.wake);
    this.wake();
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
    let total = 0;
    for (;;) {
      const sent = await this.publishBatch();
      if (sent === 0) break;
      total += sent;
    }
    return total;
  }

  /** One batch in id order: sent, acknowledged, then exactly those rows deleted; returns how many. */
  private async publishBatch(): Promise<number> {
    const { dataSource, producer, batchSize = 500 } = this.options;
    const rows = await query<OutboxRow>(
      dataSource.manager,
      `SELECT id, topic, key, headers, value FROM ${this.outbox} ORDER BY id LIMIT $1`,
      [batchSize],
    );
    if (rows.length === 0) return 0;
    await Promise.all(rows.map((r) => producer.send(r.topic, { key: r.key, value: r.value, headers: r.headers })));
    // Exactly the rows sent: a transaction that took a lower id but commits later is still pending, not lost.
    await execute(dataSource.manager, `DELETE FROM ${this.outbox} WHERE id = ANY($1::bigint[])`, [
      rows.map((r) => r.id),
    ]);
    return rows.length;
  }

  private async run(): Promise<void> {
    const { batchSize = 500, pollIntervalMs = this.wakeOnCommit ? 1_000 : 100 } = this.options;
    while (this.running) {
      try {
        if (await this.holdLock()) {
          if (this.wakeOnCommit) await this.listen();
          this.woken = false;
          // A short batch ends the pass: rows committed after its read wake the relay again (or the poll finds them).
          while (this.running && (await this.publishBatch()) === batchSize);
          this.options.metrics.outboxPending.set({ schema: this.options.schema }, 0);
        }
      } catch (error) {
        // A summary, never the message: a failed statement or send may quote the values of the rows it carried.
        this.options.logger?.error(`outbox relay for ${this.options.schema}: ${safeErrorSummary(error)}`);
        await this.dropLock();
        this.woken = false;
      }
      if (this.running && !this.woken) await this.nap(pollIntervalMs);
    }
  }

  /** Sleeps until the poll interval passes or a wake-up comes. */
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeNap = undefined;
        resolve();
      }, ms);
      this.wakeNap = () => {
        clearTimeout(timer);
        this.wakeNap = undefined;
        resolve();
      };
    });
  }

  /** LISTENs for the schema's notifications on a pooled connection of its own, while the relay holds the lock. */
  private async listen(): Promise<void> {
    if (this.listener && !this.listener.broken) return;
    await this.unlisten();
    const driver = this.options.dataSource.driver as PostgresDriver;
    const [client, release] = (await driver.obtainMasterConnection()) as [ListeningClient, (error?: Error) => void];
    const listener: Listener = { client, release, broken: false, onNotice: this.wake, onError: () => undefined };
    // A lost connection: the next pass listens on a new one (the poll covers the gap).
    listener.onError = () => {
      listener.broken = true;
      this.wake();
    };
    client.on('notification', listener.onNotice);
    client.on('error', listener.onError);
    this.listener = listener;
    await client.query(`LISTEN "${outboxChannel(this.options.schema)}"`);
  }

  private async unlisten(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    if (!listener) return;
    listener.client.removeListener('notification', listener.onNotice);
    try {
      if (!listener.broken) await listener.client.query('UNLISTEN *');
      listener.release(listener.broken ? new Error('outbox listener connection lost') : undefined);
    } catch (error) {
      // Closed by the pool rather than reused while it may still listen.
      listener.release(error instanceof Error ? error : new Error(String(error)));
    } finally {
      listener.client.removeListener('error', listener.onError);
    }
  }

  private async holdLock(): Promise<boolean> {
    this.lock ??= await RELAY_LOCK.tryLockForSession(this.options.dataSource, this.options.schema);
    return this.lock !== undefined;
  }

  /** Unlocks, or closes the lock's connection when it cannot: a lock left on a pooled connection would outlive the relay. */
  private async dropLock(): Promise<void> {
    await this.unlisten().catch(() => undefined);
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }
}
