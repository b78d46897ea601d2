/**
 * Seconds to build a point-in-time training set of BENCH_LABELS label rows (default 1M) over
 * BENCH_FEATURE_ROWS feature rows (default 10M) in the embedded ClickHouse engine, written to the
 * artifact store; beside it, in the same process, ClickHouse's plain ASOF JOIN over the same tables
 * (which ignores created_at, so it leaks late data) as the baseline. Data is generated inside ClickHouse.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createArtifactStore } from '@mlops/artifacts';
import { createClickHouse } from '@mlops/storage';
import {
  FEATURE_ROWS_TABLE,
  LABEL_ROWS_TABLE,
  SnapshotBuilder,
  createOfflineTables,
} from '@mlops/feature-store/dist/src/offline';

const FEATURE_ROWS = Number(process.env.BENCH_FEATURE_ROWS ?? 10_000_000);
const LABELS = Number(process.env.BENCH_LABELS ?? 1_000_000);
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000);
const TTL_SECONDS = Number(process.env.BENCH_TTL_SECONDS ?? 7 * 86_400);
const DB = 'bench_snapshot';
const MONTH = 30 * 86_400;

async function timed<T>(what: string, run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await run();
  const seconds = (performance.now() - started) / 1000;
  console.log(`  ${what.padEnd(44)} ${seconds.toFixed(2).padStart(8)} s`);
  return { value, seconds };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-snapshot-'));
  try {
    const clickhouse = await createClickHouse({ dataDir: path.join(dir, 'clickhouse'), database: DB });
    const artifacts = createArtifactStore({ url: `file://${path.join(dir, 'artifacts')}` });
    await createOfflineTables(clickhouse, DB);
    console.log(
      `bench/snapshot: ${LABELS} labels over ${FEATURE_ROWS} feature rows, ${ENTITIES} entities, TTL ${TTL_SECONDS} s`,
    );
    await timed('generate feature rows (in ClickHouse)', () =>
      clickhouse.command({
        query: `INSERT INTO ${DB}.${FEATURE_ROWS_TABLE}
          SELECT 'bench_view', 1, toString(number % ${ENTITIES}),
                 toDateTime64('2025-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(intHash64(number) % ${MONTH * 1000}) AS et,
                 et + toIntervalSecond(intHash32(number) % 7200),
                 concat('{"clicks":', toString(number % 97), ',"spend":', toString((intHash32(number * 7) % 10000) / 100), '}'),
                 map('clicks', toFloat64(number % 97)), concat('fe-', toString(number))
          FROM numbers(${FEATURE_ROWS})`,
      }),
    );
    await timed('generate label rows (in ClickHouse)', () =>
      clickhouse.command({
        query: `INSERT INTO ${DB}.${LABEL_ROWS_TABLE}
          SELECT 'bench_labels', toString(intHash32(number) % ${ENTITIES}),
                 toDateTime64('2025-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(intHash64(number + 1) % ${MONTH * 1000}) AS et,
                 et, concat('{"churned":', toString(number % 2), '}'), concat('lb-', toString(number))
          FROM numbers(${LABELS})`,
      }),
    );
    const timeRange = { start: '2025-01-01T00:00:00.000Z', end: '2025-02-01T00:00:00.000Z' };
    const baseline = await timed('baseline: plain LEFT ASOF JOIN (leaky)', async () => {
      const result = await clickhouse.query({
        query: `SELECT l.entity_id, l.event_time, JSONExtractRaw(l.record, 'churned') AS label, f.features
                FROM ${DB}.${LABEL_ROWS_TABLE} AS l
                LEFT ASOF JOIN (SELECT entity_id, event_time, features FROM ${DB}.${FEATURE_ROWS_TABLE} WHERE view_name = 'bench_view') AS f
                ON l.entity_id = f.entity_id AND f.event_time <= l.event_time
                WHERE l.dataset = 'bench_labels'
                ORDER BY l.entity_id, l.event_time
                SETTINGS join_use_nulls = 1`,
        format: 'JSONEachRow',
      });
      return (await result.json()).length;
    });
    const builder = new SnapshotBuilder(clickhouse, artifacts, DB);
    const ours = await timed('point-in-time snapshot (query+encode+store)', () =>
      builder.buildSnapshot({
        featureView: { name: 'bench_view', version: 1 },
        labels: { dataset: 'bench_labels', field: 'churned' },
        timeRange,
        featureTtlSeconds: TTL_SECONDS,
      }),
    );
    console.log(
      `  rows: baseline ${baseline.value}, snapshot ${ours.value.rows} (${(ours.value.sizeBytes / 1e6).toFixed(1)} MB, sha256 ${ours.value.sha256.slice(0, 12)}…)`,
    );
    console.log(
      `  ratio snapshot/baseline time: ${(ours.seconds / baseline.seconds).toFixed(2)} (baseline ignores created_at and TTL, writes nothing)`,
    );
    await clickhouse.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
