// The monitor's ClickHouse tables in an embedded engine (chdb) of the test process, for the tests of its SQL.
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClickHouse } from '@mlops/storage';
import { createMonitorTables } from '../src/infrastructure/clickhouse-tables';
import { MonitorAnalytics } from '../src/infrastructure/monitor-analytics';
import { ClickHouseSink } from '../src/infrastructure/sink';

export interface EmbeddedMonitor {
  readonly clickhouse: ClickHouseClient;
  readonly analytics: MonitorAnalytics;
  readonly sink: ClickHouseSink;
}

/**
 * A temporary data directory with `database` and the monitor's tables, made by a `before` hook of the calling file
 * and removed by its `after` hook; the engine, the analytics and the sink on it.
 */
export function embeddedMonitor(database: string): EmbeddedMonitor {
  let state: (EmbeddedMonitor & { dataDir: string }) | undefined;
  before(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), `${database}-`));
    const clickhouse = await createClickHouse({ dataDir, database });
    await createMonitorTables(clickhouse, database);
    state = {
      dataDir,
      clickhouse,
      analytics: new MonitorAnalytics(clickhouse, database),
      sink: new ClickHouseSink(clickhouse, database),
    };
  });
  after(async () => {
    await state?.clickhouse.close();
    if (state) await rm(state.dataDir, { recursive: true, force: true });
  });
  const ready = (): EmbeddedMonitor => {
    if (!state) throw new Error('the embedded monitor is used before its hooks ran');
    return state;
  };
  return {
    get clickhouse() {
      return ready().clickhouse;
    },
    get analytics() {
      return ready().analytics;
    },
    get sink() {
      return ready().sink;
    },
  };
}
