import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type CloudEvent, enqueueManyInOutbox } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { type AggregationState, type FeatureVector, type FeatureView, type JsonObject, applyRecord, emptyAggregationState } from '../../domain';
import { type BackfillSummary, CatalogStore } from '../../infrastructure/catalog-store';
import { OnlineStore, type OnlineVector, type StateRow } from '../../infrastructure/online-store';
import { type OfflineFeatureRow, OfflineFeatureStore, type StoredSourceRecord } from '../../offline';
import { BuildSnapshotService } from '../../snapshots/build-snapshot/build-snapshot.service';
import { materializedEvent } from '../../features/materialize-features/materialized-event';
import { PG_SCHEMA } from '../../tokens';

/** Offline rows per ClickHouse insert, and Postgres rows per statement when the states are saved. */
const ROWS_PER_INSERT = 10_000;
const ROWS_PER_STATEMENT = 2_000;
/** Catch-up passes run without blocking materialization while each still finds this many new records. */
const CATCH_UP_RECORDS = 1_000;
const MAX_CATCH_UP_PASSES = 5;
const MAX_ATTEMPTS = 3;

class Stopped extends Error {}

interface Replay {
  readonly view: FeatureView;
  readonly states: Map<string, AggregationState>;
  readonly vectors: Map<string, { features: FeatureVector; eventTimeMs: number; sourceEventId: string }>;
  readonly rows: OfflineFeatureRow[];
  after: Date | null;
  records: number;
  written: number;
  skipped: number;
  upToMs: number | null;
}

/**
 * Backfills a new feature view version from the offline store: the dataset's source records are replayed in
 * arrival order through the version's computation, as if it had existed all along. Each offline row keeps the
 * created_at of its record (its data was known then; only the computation is new), so point-in-time training
 * sets over past labels can use the version. Then its states and online vectors are written, its vectors
 * announced, and it becomes 'ready': from then on records are materialized into it instead of the previous
 * version. Until then records go on feeding the previous version, and the replay picks them up.
 *
 * Nothing is missed or counted twice: the last pass holds the dataset lock exclusively (see CatalogStore), so
 * every record up to it is in ClickHouse and every later one is materialized live into the ready version.
 * One replica runs a given backfill (session advisory lock); an interrupted one starts over at the next start,
 * rewriting identical offline rows (point-in-time reads pick one of equal rows).
 */
@Injectable()
export class BackfillFeatureViewService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('backfill');
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;
  private resumed = false;

  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly online: OnlineStore,
    @Inject(OfflineFeatureStore) private readonly offline: OfflineFeatureStore,
    private readonly snapshots: BuildSnapshotService,
  ) {}

  /** Resumes the backfills an earlier process left and answers the snapshot requests that waited for them. */
  async onApplicationBootstrap(): Promise<void> {
    // The hook runs for the event transport and for the HTTP app: resuming once is enough.
    if (this.resumed) return;
    this.resumed = true;
    try {
      for (const view of await this.catalog.backfilling()) this.start(view.name, view.version);
      // Requests that waited for a backfill a stopped process finished.
      await this.snapshots.answerDeferred();
    } catch (error) {
      this.logger.error(`backfills or deferred snapshots to resume: ${(error as Error).message}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.settled();
  }

  /** Starts the backfill of a version in the background, unless this process already runs it. */
  start(name: string, version: number): void {
    const key = `${name}@${version}`;
    if (this.running.has(key) || this.stopping) return;
    const job = this.runWithRetries(name, version).finally(() => this.running.delete(key));
    this.running.set(key, job);
  }

  /** Resolves when the backfills running now have ended (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private async runWithRetries(name: string, version: number): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && !this.stopping; attempt++) {
      const startedAt = new Date();
      try {
        await this.runExclusively(name, version, startedAt);
        return;
      } catch (error) {
        if (error instanceof Stopped) return;
        const message = (error as Error).message;
        this.logger.error(`backfill of ${name}@${version} failed (attempt ${attempt} of ${MAX_ATTEMPTS}): ${message}`);
        await this.catalog
          .recordBackfill(this.dataSource.manager, name, version, { startedAt: startedAt.toISOString(), records: 0, rows: 0, entities: 0, lastError: message }, 'backfilling')
          .catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
      }
    }
  }

  private async runExclusively(name: string, version: number, startedAt: Date): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const lockKey = `feature-view-backfill:${name}@${version}`;
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [lockKey]);
      if (!locked) return; // another replica runs it
      try {
        const stored = await this.catalog.stored(name, version);
        if (!stored || stored.status === 'ready') return;
        const view = await this.catalog.view(name, version);
        if (!view) return;
        await this.backfill(view, stored.dataset, startedAt);
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
      }
    } finally {
      await runner.release();
    }
  }

  private async backfill(view: FeatureView, dataset: string, startedAt: Date): Promise<void> {
    const replay: Replay = { view, states: new Map(), vectors: new Map(), rows: [], after: null, records: 0, written: 0, skipped: 0, upToMs: null };
    const summary = (finished?: Date): BackfillSummary => ({
      startedAt: startedAt.toISOString(),
      ...(finished ? { finishedAt: finished.toISOString() } : {}),
      records: replay.records,
      rows: replay.written,
      entities: replay.states.size,
      ...(replay.upToMs !== null ? { upTo: new Date(replay.upToMs).toISOString() } : {}),
    });
    // Catch-up passes: the lock is taken and released at once, so that every record arrived before it is
    // readable; materialization goes on meanwhile. A pass reads up to a millisecond before the lock, since a
    // record of that very millisecond may still come after it.
    for (let pass = 0; pass < MAX_CATCH_UP_PASSES; pass++) {
      const lockedAt = await this.dataSource.transaction(async (manager) => {
        await this.catalog.lockDatasetExclusive(manager, dataset);
        return Date.now();
      });
      const before = replay.records;
      await this.replayUpTo(replay, dataset, new Date(lockedAt - 1));
      await this.catalog.recordBackfill(this.dataSource.manager, view.name, view.version, summary(), 'backfilling');
      if (replay.records - before < CATCH_UP_RECORDS) break;
    }
    // The last pass holds the lock until the version is ready: no record is materialized meanwhile.
    await this.dataSource.transaction(async (manager) => {
      await this.catalog.lockDatasetExclusive(manager, dataset);
      const now = new Date();
      await this.replayUpTo(replay, dataset, now);
      const states: StateRow[] = [];
      for (const [entityId, state] of replay.states) states.push({ viewName: view.name, viewVersion: view.version, entityId, state, updatedAt: now });
      const vectors: OnlineVector[] = [];
      const events: CloudEvent[] = [];
      for (const [entityId, latest] of replay.vectors) {
        vectors.push({ viewName: view.name, viewVersion: view.version, entityId, features: latest.features, eventTime: new Date(latest.eventTimeMs), sourceEventId: latest.sourceEventId, updatedAt: now });
        events.push(materializedEvent(view, entityId, latest, latest.sourceEventId, now));
      }
      for (let i = 0; i < states.length; i += ROWS_PER_STATEMENT) await this.online.saveStates(manager, states.slice(i, i + ROWS_PER_STATEMENT));
      for (let i = 0; i < vectors.length; i += ROWS_PER_STATEMENT) await this.online.saveVectors(manager, vectors.slice(i, i + ROWS_PER_STATEMENT));
      for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) await enqueueManyInOutbox(manager, PG_SCHEMA, events.slice(i, i + ROWS_PER_STATEMENT));
      await this.catalog.recordBackfill(manager, view.name, view.version, summary(now), 'ready');
    });
    this.logger.log(
      `${view.name}@${view.version} backfilled and ready: ${replay.records} records, ${replay.written} rows, ${replay.states.size} entities` +
        (replay.skipped > 0 ? `, ${replay.skipped} records that cannot feed it skipped` : ''),
    );
    // The version is ready whatever happens here: a request left waiting is answered at the next start.
    try {
      const answered = await this.snapshots.answerDeferred({ name: view.name, version: view.version });
      if (answered > 0) this.logger.log(`${view.name}@${view.version}: ${answered} snapshot requests that waited for it answered`);
    } catch (error) {
      this.logger.error(`${view.name}@${view.version}: snapshot requests that waited for it are left for the next start: ${(error as Error).message}`);
    }
  }

  /** Replays the records that arrived after the previous pass and up to `upTo`; their offline rows are written. */
  private async replayUpTo(replay: Replay, dataset: string, upTo: Date): Promise<void> {
    for await (const record of this.offline.sourceRecords(dataset, replay.after, upTo)) {
      if (this.stopping) throw new Stopped();
      this.apply(replay, record);
      if (replay.rows.length >= ROWS_PER_INSERT) await this.offline.appendFeatureRows(replay.rows.splice(0));
    }
    await this.offline.appendFeatureRows(replay.rows.splice(0));
    replay.after = upTo;
  }

  /** One record, as materialization would have handled it on arrival. */
  private apply(replay: Replay, record: StoredSourceRecord): void {
    const { view } = replay;
    replay.records += 1;
    replay.upToMs = record.createdAtMs;
    const state = replay.states.get(record.entityId) ?? emptyAggregationState();
    const applied = applyRecord(view, { id: record.recordId, eventTime: record.eventTimeMs, fields: record.record as JsonObject }, state);
    if (!applied.ok) {
      // Live, such a record is dead-lettered; replayed, it is left out (and counted) rather than blocking the version.
      replay.skipped += 1;
      this.logger.warn(`backfill of ${view.name}@${view.version}: record ${record.sourceEventId} of ${record.entityId} skipped: ${applied.error}`);
      return;
    }
    const effect = applied.value;
    if (!effect) return; // a duplicate
    replay.states.set(record.entityId, effect.state);
    replay.rows.push({
      viewName: view.name,
      viewVersion: view.version,
      entityId: record.entityId,
      eventTime: new Date(record.eventTimeMs),
      createdAt: new Date(record.createdAtMs),
      features: effect.row,
      sourceEventId: record.sourceEventId,
    });
    replay.written += 1;
    if (effect.vector) replay.vectors.set(record.entityId, { ...effect.vector, sourceEventId: record.sourceEventId });
  }
}
