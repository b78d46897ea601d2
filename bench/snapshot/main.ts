/**
 * Seconds to build an exact point-in-time training set of BENCH_LABELS labels (default 1M) over BENCH_RECORDS
 * source records (default 10M) in the embedded ClickHouse engine, with a view of plain AND windowed features
 * (count/sum over 1 h, mean over 1 d, a derived expression), as-known semantics, written as NDJSON and Parquet to
 * the artifact store; beside it, in the same process, ClickHouse's plain ASOF JOIN of each label to the entity's
 * latest record (which ignores known_at, TTL and windows, so it leaks late data) as the baseline. The aim: exact
 * within 3x the baseline. Data is generated inside ClickHouse.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createArtifactStore } from '@mlops/artifacts';
import { createClickHouse } from '@mlops/storage';
import { validateFeatureView } from '@mlops/feature-store/dist/src/domain';
import {
  LABEL_ROWS_TABLE,
  SOURCE_RECORDS_TABLE,
  TrainingSetBuilder,
  createOfflineTables,
  trainingSetQuery,
} from '@mlops/feature-store/dist/src/offline';

const RECORDS = Number(process.env.BENCH_RECORDS ?? process.env.BENCH_FEATURE_ROWS ?? 10_000_000);
const LABELS = Number(process.env.BENCH_LABELS ?? 1_000_000);
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000);
const TTL_SECONDS = Number(process.env.BENCH_TTL_SECONDS ?? 7 * 86_400);
const DB = 'bench_snapshot';
const MONTH = 30 * 86_400;

/** Wall seconds, and CPU seconds of this process (the embedded engine runs in it): steadier on a shared machine. */
async function timed<T>(what: string, run: () => Promise<T>): Promise<{ value: T; seconds: number; cpu: number }> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const value = await run();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpuBefore);
  const cpu = (used.user + used.system) / 1e6;
  console.log(`  ${what.padEnd(52)} ${seconds.toFixed(2).padStart(8)} s  (cpu ${cpu.toFixed(2)} s)`);
  return { value, seconds, cpu };
}

function benchView() {
  const compiled = validateFeatureView(
    {
      name: 'bench_view',
      version: 1,
      source: { dataset: 'bench_activity' },
      ttl: TTL_SECONDS,
      features: [
        { kind: 'field', name: 'clicks', field: 'clicks' },
        { kind: 'field', name: 'spend', field: 'spend' },
        { kind: 'aggregate', name: 'clicks_count_1h', field: 'clicks', function: 'count', window: 'PT1H' },
        { kind: 'aggregate', name: 'spend_sum_1h', field: 'spend', function: 'sum', window: 'PT1H' },
        { kind: 'aggregate', name: 'spend_mean_1d', field: 'spend', function: 'mean', window: 'P1D' },
        {
          kind: 'expression',
          name: 'spend_share_1h',
          expression: 'if(spend_mean_1d > 0, spend_sum_1h / spend_mean_1d, null)',
        },
      ],
    },
    {
      name: 'bench_activity',
      entityKeyField: 'customer_id',
      eventTimeField: 'event_time',
      recordSchema: {
        type: 'object',
        properties: {
          customer_id: { type: 'string' },
          event_time: { type: 'string', format: 'date-time' },
          clicks: { type: 'number' },
          spend: { type: 'number' },
        },
      },
    },
  );
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.error));
  return compiled.value;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-snapshot-'));
  try {
    const clickhouse = await createClickHouse({ dataDir: path.join(dir, 'clickhouse'), database: DB });
    const artifacts = createArtifactStore({ url: `file://${path.join(dir, 'artifacts')}` });
    await createOfflineTables(clickhouse, DB);
    console.log(
      `bench/snapshot: ${LABELS} labels over ${RECORDS} source records, ${ENTITIES} entities, TTL ${TTL_SECONDS} s, windows 1h/1h/1d`,
    );
    // Records arrive 0-2 h after their event time (known_at = created_at).
    await timed('generate source records (in ClickHouse)', () =>
      clickhouse.command({
        query: `INSERT INTO ${DB}.${SOURCE_RECORDS_TABLE}
          (dataset, entity_id, event_time, created_at, known_at, record_id, record, source_event_id, source_partition, source_offset)
          SELECT 'bench_activity', toString(number % ${ENTITIES}),
                 toDateTime64('2025-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(intHash64(number) % ${MONTH * 1000}) AS et,
                 et + toIntervalSecond(intHash32(number) % 7200) AS ca, ca,
                 concat('r-', toString(number)),
                 concat('{"customer_id":"', toString(number % ${ENTITIES}), '","clicks":', toString(number % 97), ',"spend":', toString((intHash32(number * 7) % 10000) / 100), '}'),
                 concat('e-', toString(number)), number % 8, number
          FROM numbers(${RECORDS})`,
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
    const baseline = await timed('baseline: plain LEFT ASOF JOIN (leaky, no windows)', async () => {
      const result = await clickhouse.query({
        query: `SELECT l.entity_id, l.event_time, JSONExtractRaw(l.record, 'churned') AS label, r.record
                FROM ${DB}.${LABEL_ROWS_TABLE} AS l
                LEFT ASOF JOIN (SELECT entity_id, event_time, record FROM ${DB}.${SOURCE_RECORDS_TABLE} WHERE dataset = 'bench_activity') AS r
                ON l.entity_id = r.entity_id AND r.event_time <= l.event_time
                WHERE l.dataset = 'bench_labels'
                ORDER BY l.entity_id, l.event_time
                SETTINGS join_use_nulls = 1`,
        format: 'JSONEachRow',
      });
      return (await result.json()).length;
    });
    const view = benchView();
    const request = {
      view,
      labels: { dataset: 'bench_labels', field: 'churned' },
      timeRange,
      semantics: 'as-known' as const,
    };
    const query = await timed('exact query alone (ClickHouse, rows to Node)', async () => {
      const compiled = trainingSetQuery(DB, request);
      const result = await clickhouse.query({
        query: compiled.query,
        query_params: compiled.query_params,
        format: 'JSONEachRow',
      });
      return (await result.json()).length;
    });
    const builder = new TrainingSetBuilder(clickhouse, artifacts, DB);
    const ours = await timed('exact training set (query+features+NDJSON+Parquet)', () => builder.build(request));
    const built = ours.value;
    console.log(
      `  rows: baseline ${baseline.value}, query ${query.value}, training set ${built.rows} (${(built.sizeBytes / 1e6).toFixed(1)} MB NDJSON, ${(built.parquet.sizeBytes / 1e6).toFixed(1)} MB Parquet)`,
    );
    console.log(`  rows with a feature: ${built.quality.rowsWithFeatures}; ${built.quality.warning ?? 'no warning'}`);
    console.log(
      `  ratio exact query/baseline: ${(query.seconds / baseline.seconds).toFixed(2)} wall, ${(query.cpu / baseline.cpu).toFixed(2)} cpu; whole training set/baseline: ${(ours.seconds / baseline.seconds).toFixed(2)} wall, ${(ours.cpu / baseline.cpu).toFixed(2)} cpu (baseline ignores known_at, TTL and windows, writes nothing)`,
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
