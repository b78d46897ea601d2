import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import type { OfflineFeatureRow, OfflineFeatureStore, OfflineLabelRow } from '../offline';

interface Pending {
  features: OfflineFeatureRow[];
  labels: OfflineLabelRow[];
}

/**
 * Offline rows of the handlers of one Postgres transaction (up to a whole group of events) go to ClickHouse in
 * one insert just before that transaction commits: one part per group instead of one per event, and a failed
 * insert rolls the transaction back, so the events are retried. Rows are thus written at least once.
 */
export class OfflineWriteBehind implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, Pending>();

  constructor(private readonly offline: OfflineFeatureStore) {}

  /** Registers the subscriber on the DataSource whose transactions carry the rows. */
  static attach(dataSource: DataSource, offline: OfflineFeatureStore): OfflineWriteBehind {
    const writer = new OfflineWriteBehind(offline);
    dataSource.subscribers.push(writer);
    return writer;
  }

  addFeatureRow(manager: EntityManager, row: OfflineFeatureRow): void {
    this.of(manager).features.push(row);
  }

  addLabelRow(manager: EntityManager, row: OfflineLabelRow): void {
    this.of(manager).labels.push(row);
  }

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const pending = this.pending.get(event.queryRunner);
    if (!pending) return;
    await this.offline.appendFeatureRows(pending.features);
    await this.offline.appendLabelRows(pending.labels);
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
    if (!runner?.isTransactionActive) throw new Error('offline rows are written from within a Postgres transaction');
    let pending = this.pending.get(runner);
    if (!pending) {
      pending = { features: [], labels: [] };
      this.pending.set(runner, pending);
    }
    return pending;
  }
}
