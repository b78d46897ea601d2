import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { POSTGRES } from '@mlops/storage';
import type { FeatureView, JsonObject } from '../../domain';
import { FeatureViewReplay, type ReplayedRecord, type ReplayedRow } from '../../domain/backfill-replay';
import { BackfillWriter } from '../../infrastructure/backfill-writer';
import { type BackfillSummary, CatalogStore } from '../../infrastructure/catalog-store';
import { OnlineStore } from '../../infrastructure/online-store';
import { type OfflineFeatureRow, OfflineFeatureStore, type StoredSourceRecord } from '../../offline';
import { BuildSnapshotService } from '../../snapshots/build-snapshot/build-snapshot.service';
import { materializedEvent } from '../../features/materialize-features/materialized-event';
import { PG_SCHEMA } from '../../tokens';
import { BackfillLockProtocol } from './backfill-lock-protocol';
import { DeferredSnapshots } from './deferred-snapshots';

const MAX_ATTEMPTS = 3;

class Stopped extends Error {}

/**
 * Backfills a new feature view version from the offline store: the dataset's source records are replayed in
 * arrival order through the version's computation (FeatureViewReplay), as if it had existed all along, so
 * point-in-time training sets over past labels can use the version. Then its states and online vectors are
 * written, its vectors announced, and it becomes 'ready': from then on records are materialized into it instead
 * of the previous version. Until then records go on feeding the previous version, and the replay picks them up
 * (BackfillLockProtocol says how the history is cut). One replica runs a given backfill; an interrupted one
 * starts over at the next start, rewriting identical offline rows (point-in-time reads pick one of equal rows).
 */
@Injectable()
export class BackfillFeatureViewService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('backfill');
  private readonly running = new Map<string, Promise<void>>();
  private readonly locks: BackfillLockProtocol;
  private readonly deferred: DeferredSnapshots;
  private stopping = false;

  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly online: OnlineStore,
    @Inject(OfflineFeatureStore) private readonly offline: OfflineFeatureStore,
    snapshots: BuildSnapshotService,
  ) {
    this.locks = new BackfillLockProtocol(dataSource, catalog);
    this.deferred = new DeferredSnapshots(snapshots, this.logger);
  }

  /** Resumes the backfills an earlier process left and answers the snapshot requests that waited for them. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      for (const view of await this.catalog.backfilling()) this.start(view.name, view.version);
      await this.deferred.answerLeftOver();
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
        await this.locks.alone(name, version, () => this.run(name, version, startedAt));
        return;
      } catch (error) {
        if (error instanceof Stopped) return;
        const message = (error as Error).message;
        this.logger.error(`backfill of ${name}@${version} failed (attempt ${attempt} of ${MAX_ATTEMPTS}): ${message}`);
        const failed: BackfillSummary = {
          startedAt: startedAt.toISOString(),
          records: 0,
          rows: 0,
          entities: 0,
          lastError: message,
        };
        await this.catalog
          .recordBackfill(this.dataSource.manager, name, version, failed, 'backfilling')
          .catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
      }
    }
  }

  private async run(name: string, version: number, startedAt: Date): Promise<void> {
    const stored = await this.catalog.stored(name, version);
    if (!stored || stored.status === 'ready') return;
    const view = await this.catalog.view(name, version);
    if (!view) return;
    const replay = new FeatureViewReplay(view);
    const writer = new BackfillWriter(this.online, this.offline, PG_SCHEMA);
    await this.locks.inPasses(
      stored.dataset,
      async (after, upTo) => {
        const found = await this.replay(replay, writer, stored.dataset, after, upTo);
        await this.catalog.recordBackfill(
          this.dataSource.manager,
          name,
          version,
          summaryOf(replay, startedAt),
          'backfilling',
        );
        return found;
      },
      async (manager, after, upTo) => {
        await this.replay(replay, writer, stored.dataset, after, upTo);
        await writer.writeOnline(manager, onlineWrites(replay, upTo));
        await this.catalog.recordBackfill(manager, name, version, summaryOf(replay, startedAt, upTo), 'ready');
      },
    );
    const { records, rows, entities, skipped } = replay.progress;
    this.logger.log(
      `${name}@${version} backfilled and ready: ${records} records, ${rows} rows, ${entities} entities` +
        (skipped > 0 ? `, ${skipped} records that cannot feed it skipped` : ''),
    );
    await this.deferred.answerFor(view);
  }

  /** Replays the records that arrived after `after` and up to `upTo`, their offline rows written; answers how many. */
  private async replay(
    replay: FeatureViewReplay,
    writer: BackfillWriter,
    dataset: string,
    after: Date | null,
    upTo: Date,
  ): Promise<number> {
    let found = 0;
    for await (const record of this.offline.sourceRecords(dataset, after, upTo)) {
      if (this.stopping) throw new Stopped();
      found += 1;
      const step = replay.apply(replayedRecord(record));
      if (step.kind === 'row') await writer.addRow(offlineRow(replay.view, step.row));
      else if (step.kind === 'skipped') {
        this.logger.warn(
          `backfill of ${replay.view.name}@${replay.view.version}: record ${record.sourceEventId} of ${record.entityId} skipped: ${step.reason}`,
        );
      }
    }
    await writer.flushRows();
    return found;
  }
}

function replayedRecord(record: StoredSourceRecord): ReplayedRecord {
  const { entityId, recordId, sourceEventId, eventTimeMs, createdAtMs } = record;
  return { entityId, recordId, sourceEventId, eventTimeMs, createdAtMs, fields: record.record as JsonObject };
}

function offlineRow(view: FeatureView, row: ReplayedRow): OfflineFeatureRow {
  return {
    viewName: view.name,
    viewVersion: view.version,
    entityId: row.entityId,
    eventTime: new Date(row.eventTimeMs),
    createdAt: new Date(row.createdAtMs),
    features: row.features,
    sourceEventId: row.sourceEventId,
  };
}

/** The replayed states and vectors as rows, and the announcement of each vector. */
function onlineWrites(replay: FeatureViewReplay, now: Date): Parameters<BackfillWriter['writeOnline']>[1] {
  const { view } = replay;
  const states = [...replay.states].map(([entityId, state]) => ({
    viewName: view.name,
    viewVersion: view.version,
    entityId,
    state,
    updatedAt: now,
  }));
  const vectors = [...replay.vectors].map(([entityId, latest]) => ({
    viewName: view.name,
    viewVersion: view.version,
    entityId,
    features: latest.features,
    eventTime: new Date(latest.eventTimeMs),
    sourceEventId: latest.sourceEventId,
    updatedAt: now,
  }));
  const events = [...replay.vectors].map(([entityId, latest]) =>
    materializedEvent(view, entityId, latest, latest.sourceEventId, now),
  );
  return { states, vectors, events };
}

function summaryOf(replay: FeatureViewReplay, startedAt: Date, finishedAt?: Date): BackfillSummary {
  const { records, rows, entities, upToMs } = replay.progress;
  return {
    startedAt: startedAt.toISOString(),
    ...(finishedAt ? { finishedAt: finishedAt.toISOString() } : {}),
    records,
    rows,
    entities,
    ...(upToMs !== null ? { upTo: new Date(upToMs).toISOString() } : {}),
  };
}
