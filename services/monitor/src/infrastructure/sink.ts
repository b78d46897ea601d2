import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
} from 'typeorm';
import type { ClickHouseClient } from '@mlops/storage';
import { type MonitorTable, MonitorTables } from './clickhouse-tables';

export type SinkRow = Record<string, unknown>;

/**
 * Batched ClickHouse sink: the handlers of one inbox transaction (up to a group of 200 events) add rows, and
 * just before the Postgres transaction commits each table gets one insert. A failed insert rolls the
 * transaction back, so its events are retried; an insert whose commit then fails is written again on redelivery,
 * and the ReplacingMergeTree key (ending with the event id) plus FINAL reads count it once.
 *
 * The histograms kept for drift (`prediction_bins`, a materialized view summing at insert) cannot deduplicate
 * later, so a prediction already stored is written with `duplicate = 1` and the view skips it: the check runs in
 * the same transaction that holds the inbox claims of these events, so no other consumer inserts them meanwhile.
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
    const values = table === MonitorTables.predictions ? await this.markStoredPredictions(rows) : [...rows];
    await this.clickhouse.insert({ table: `${this.database}.${table}`, values, format: 'JSONEachRow' });
  }

  /** Rows of predictions already stored get `duplicate: 1` (one indexed lookup by model, version, time, id). */
  private async markStoredPredictions(rows: readonly SinkRow[]): Promise<SinkRow[]> {
    const text = (row: SinkRow, key: string): string => String(row[key]);
    const times = rows.map((r) => text(r, 'timestamp')).sort();
    const result = await this.clickhouse.query({
      query: `SELECT DISTINCT event_id FROM ${this.database}.${MonitorTables.predictions}
        WHERE model IN {models:Array(String)} AND version IN {versions:Array(UInt32)}
          AND timestamp >= {from:DateTime64(3, 'UTC')} AND timestamp <= {to:DateTime64(3, 'UTC')}
          AND event_id IN {ids:Array(String)}`,
      format: 'JSONEachRow',
      query_params: {
        models: [...new Set(rows.map((r) => text(r, 'model')))],
        versions: [...new Set(rows.map((r) => Number(r['version'])))],
        from: times[0],
        to: times[times.length - 1],
        ids: rows.map((r) => text(r, 'event_id')),
      },
    });
    const stored = new Set((await result.json<{ event_id: string }>()).map((r) => r.event_id));
    return rows.map((row) => (stored.has(text(row, 'event_id')) ? { ...row, duplicate: 1 } : row));
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
