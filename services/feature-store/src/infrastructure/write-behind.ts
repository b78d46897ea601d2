import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import { type CloudEvent, type OutboxMessage, insertIntoOutbox, outboxMessageOf } from '@mlops/messaging';
import { type AggregationState, emptyAggregationState } from '../domain';
import type { OfflineFeatureRow, OfflineFeatureStore, OfflineLabelRow, SourceRecordRow } from '../offline';
import { type OnlineStore, type OnlineVector, type StateRow, stateKey } from './online-store';

interface Pending {
  readonly states: Map<string, StateRow>;
  /** States read ahead for the transaction's events (locked); keys read ahead without a stored state map to null. */
  readonly preloaded: Map<string, AggregationState | null>;
  readonly vectors: Map<string, OnlineVector>;
  readonly events: OutboxMessage[];
  readonly features: OfflineFeatureRow[];
  readonly labels: OfflineLabelRow[];
  readonly sources: SourceRecordRow[];
  readonly memo: Map<string, Promise<unknown>>;
}

/**
 * The writes of the handlers of one Postgres transaction (up to a whole group of events), made just before it
 * commits: one multi-row statement each for aggregation states, online vectors and outbox events, and meanwhile one
 * ClickHouse insert per offline table. A group of 200 records thus costs a few statements instead of a few
 * per record, and the last state of an entity is written once. The handlers read their own pending writes
 * (an entity updated twice in a group sees its first update). A failed write rolls the transaction back, so
 * its events are retried; offline rows are therefore written at least once (a commit can still fail after the
 * ClickHouse insert), and the offline tables keep one row per source event (offline-tables.ts).
 */
export class WriteBehind implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, Pending>();
  // One ClickHouse insert per table at a time: the rows of transactions committing meanwhile share the next one
  // (each insert has a fixed cost of several ms in the engine, whatever its size).
  private readonly featureRows: CoalescedInsert<OfflineFeatureRow>;
  private readonly labelRows: CoalescedInsert<OfflineLabelRow>;
  private readonly sourceRows: CoalescedInsert<SourceRecordRow>;

  constructor(
    private readonly online: OnlineStore,
    private readonly offline: OfflineFeatureStore,
    private readonly outboxSchema: string,
  ) {
    this.featureRows = new CoalescedInsert((rows) => this.offline.appendFeatureRows(rows));
    this.labelRows = new CoalescedInsert((rows) => this.offline.appendLabelRows(rows));
    this.sourceRows = new CoalescedInsert((rows) => this.offline.appendSourceRecords(rows));
  }

  /** Registers the subscriber on the DataSource whose transactions carry the writes. */
  static attach(
    dataSource: DataSource,
    online: OnlineStore,
    offline: OfflineFeatureStore,
    outboxSchema: string,
  ): WriteBehind {
    const writer = new WriteBehind(online, offline, outboxSchema);
    dataSource.subscribers.push(writer);
    return writer;
  }

  /** The entity's aggregation state as this transaction left it, or its stored state locked until the transaction ends. */
  async stateForUpdate(
    manager: EntityManager,
    viewName: string,
    viewVersion: number,
    entityId: string,
  ): Promise<AggregationState> {
    const { states, preloaded } = this.of(manager);
    const key = stateKey(viewName, viewVersion, entityId);
    const pending = states.get(key);
    if (pending) return pending.state;
    const read = preloaded.get(key);
    if (read !== undefined) return read ?? emptyAggregationState();
    return this.online.loadStateForUpdate(manager, viewName, viewVersion, entityId);
  }

  /** Reads (and locks) the states of many entities in one statement, for the stateForUpdate calls to come. */
  async preloadStates(
    manager: EntityManager,
    keys: ReadonlyArray<{ viewName: string; viewVersion: number; entityId: string }>,
  ): Promise<void> {
    const { states, preloaded } = this.of(manager);
    const wanted = keys.filter((k) => {
      const key = stateKey(k.viewName, k.viewVersion, k.entityId);
      return !states.has(key) && !preloaded.has(key);
    });
    const stored = await this.online.loadStatesForUpdate(manager, wanted);
    for (const k of wanted) {
      const key = stateKey(k.viewName, k.viewVersion, k.entityId);
      preloaded.set(key, stored.get(key) ?? null);
    }
  }

  putState(manager: EntityManager, row: StateRow): void {
    this.of(manager).states.set(stateKey(row.viewName, row.viewVersion, row.entityId), row);
  }

  putVector(manager: EntityManager, vector: OnlineVector): void {
    this.of(manager).vectors.set(stateKey(vector.viewName, vector.viewVersion, vector.entityId), vector);
  }

  /** An event for the outbox, checked now so that a bad one fails the handler that made it. */
  addEvent(manager: EntityManager, event: CloudEvent): void {
    this.of(manager).events.push(outboxMessageOf(event));
  }

  addFeatureRow(manager: EntityManager, row: OfflineFeatureRow): void {
    this.of(manager).features.push(row);
  }

  addLabelRow(manager: EntityManager, row: OfflineLabelRow): void {
    this.of(manager).labels.push(row);
  }

  addSourceRecord(manager: EntityManager, row: SourceRecordRow): void {
    this.of(manager).sources.push(row);
  }

  /** A value read once per transaction (such as the views over a dataset), shared by its handlers. */
  memo<T>(manager: EntityManager, key: string, read: () => Promise<T>): Promise<T> {
    const memo = this.of(manager).memo;
    let value = memo.get(key) as Promise<T> | undefined;
    if (!value) {
      value = read();
      memo.set(key, value);
    }
    return value;
  }

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const pending = this.pending.get(event.queryRunner);
    if (!pending) return;
    const manager = event.queryRunner.manager;
    // The ClickHouse inserts run while the Postgres statements do (they were half of a commit's time one after the
    // other); the commit waits for all of them, so a failure in either still rolls the transaction back.
    const outcomes = await Promise.allSettled([
      (async () => {
        await this.online.saveStatesAndVectors(manager, [...pending.states.values()], [...pending.vectors.values()]);
        await insertIntoOutbox(manager, this.outboxSchema, pending.events);
      })(),
      this.featureRows.add(pending.features),
      this.labelRows.add(pending.labels),
      this.sourceRows.add(pending.sources),
    ]);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    this.pending.delete(event.queryRunner);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    this.pending.delete(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.pending.delete(event.queryRunner);
  }

  private of(manager: EntityManager): Pending {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive)
      throw new Error('feature store writes are made from within a Postgres transaction');
    let pending = this.pending.get(runner);
    if (!pending) {
      pending = {
        states: new Map(),
        preloaded: new Map(),
        vectors: new Map(),
        events: [],
        features: [],
        labels: [],
        sources: [],
        memo: new Map(),
      };
      this.pending.set(runner, pending);
    }
    return pending;
  }
}

/**
 * Inserts rows one insert at a time: rows added while one is in flight wait for it and go together in the next, and
 * each caller learns the outcome of the insert that carried its rows (a failure fails every transaction in it; they
 * are retried, and the offline tables keep one row per source event).
 */
export class CoalescedInsert<T> {
  private queue: Array<{ rows: readonly T[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  private inFlight = false;

  constructor(private readonly insert: (rows: readonly T[]) => Promise<void>) {}

  add(rows: readonly T[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const callers = this.queue;
    this.queue = [];
    this.inFlight = true;
    let insert: Promise<void>;
    try {
      insert = this.insert(callers.flatMap((c) => c.rows));
    } catch (error) {
      insert = Promise.reject(error);
    }
    insert
      .then(
        () => callers.forEach((c) => c.resolve()),
        (error: unknown) => callers.forEach((c) => c.reject(error)),
      )
      .finally(() => {
        this.inFlight = false;
        this.next();
      });
  }
}
