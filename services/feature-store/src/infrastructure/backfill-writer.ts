import type { EntityManager } from 'typeorm';
import { type CloudEvent, enqueueManyInOutbox } from '@mlops/messaging';
import type { OfflineFeatureRow, OfflineFeatureStore } from '../offline';
import type { OnlineStore, OnlineVector, StateRow } from './online-store';

export interface BackfillBatchSizes {
  /** Offline rows per ClickHouse insert. */
  readonly rowsPerInsert: number;
  /** Postgres rows per statement when states, vectors and events are saved. */
  readonly rowsPerStatement: number;
}

const DEFAULT_SIZES: BackfillBatchSizes = { rowsPerInsert: 10_000, rowsPerStatement: 2_000 };

/** What a finished backfill leaves online: written in the transaction that makes its version ready. */
export interface BackfillOnlineWrites {
  readonly states: readonly StateRow[];
  readonly vectors: readonly OnlineVector[];
  readonly events: readonly CloudEvent[];
}

/**
 * The writes of one backfill, in batches: offline rows go to ClickHouse as they come, a batch at a time (a
 * replay of millions of records never holds them all); states, vectors and events go to Postgres at the end in
 * statements of bounded size (a statement's parameters stay well under Postgres's limits).
 */
export class BackfillWriter {
  private readonly rows: OfflineFeatureRow[] = [];

  constructor(
    private readonly online: OnlineStore,
    private readonly offline: OfflineFeatureStore,
    private readonly outboxSchema: string,
    private readonly sizes: BackfillBatchSizes = DEFAULT_SIZES,
  ) {}

  /** Keeps a row; writes the batch when it is full. */
  async addRow(row: OfflineFeatureRow): Promise<void> {
    this.rows.push(row);
    if (this.rows.length >= this.sizes.rowsPerInsert) await this.flushRows();
  }

  /** Writes the rows kept so far. */
  async flushRows(): Promise<void> {
    if (this.rows.length === 0) return;
    await this.offline.appendFeatureRows(this.rows.splice(0));
  }

  async writeOnline(manager: EntityManager, writes: BackfillOnlineWrites): Promise<void> {
    for (const part of chunks(writes.states, this.sizes.rowsPerStatement)) await this.online.saveStates(manager, part);
    for (const part of chunks(writes.vectors, this.sizes.rowsPerStatement))
      await this.online.saveVectors(manager, part);
    for (const part of chunks(writes.events, this.sizes.rowsPerStatement))
      await enqueueManyInOutbox(manager, this.outboxSchema, part);
  }
}

function* chunks<T>(items: readonly T[], size: number): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
