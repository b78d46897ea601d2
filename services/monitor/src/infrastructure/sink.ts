import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
} from 'typeorm';
import type { ClickHouseClient } from '@mlops/storage';
import type { MonitorTable } from './clickhouse-tables';

export type SinkRow = Record<string, unknown>;

/**
 * Batched ClickHouse sink: the handlers of one inbox transaction (a group of up to SINK_GROUP events) add rows, and
 * just before the Postgres transaction commits each table gets one insert. A failed insert rolls the
 * transaction back, so its events are retried; an insert whose commit then fails is written again on redelivery,
 * and the ReplacingMergeTree key (ending with the event id) plus FINAL reads count it once. The drift histograms
 * are not kept here: the binner makes them later from the deduplicated rows (prediction-binner.ts).
 */
export class ClickHouseSink implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, Map<MonitorTable, SinkRow[]>>();

  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly database: string,
  ) {}

  static attach(dataSource: DataSource, clickhouse: ClickHouseClient, database: string): ClickHouseSink {
    const sink = new ClickHouseSink(clickhouse, database);
    dataSource.subscribers.push(sink);
    return sink;
  }

  add(manager: EntityManager, table: MonitorTable, row: SinkRow): void {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) throw new Error('monitor sink rows are added from within a Postgres transaction');
    let tables = this.pending.get(runner);
    if (!tables) {
      tables = new Map();
      this.pending.set(runner, tables);
    }
    const rows = tables.get(table) ?? [];
    rows.push(row);
    tables.set(table, rows);
  }

  /** Rows outside any transaction (benchmarks, backfills): one insert per table. */
  async write(table: MonitorTable, rows: readonly SinkRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.clickhouse.insert({ table: `${this.database}.${table}`, values: [...rows], format: 'JSONEachRow' });
  }

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const tables = this.pending.get(event.queryRunner);
    if (!tables) return;
    this.pending.delete(event.queryRunner);
    for (const [table, rows] of tables) await this.write(table, rows);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    this.pending.delete(event.queryRunner);
  }

  afterTransactionRollback(event: { queryRunner: QueryRunner }): void {
    this.pending.delete(event.queryRunner);
  }
}
