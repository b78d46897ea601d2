/**
 * bench/monitor, embedded ClickHouse only (chdb, a temporary data directory):
 * 1. Sink: BENCH_SINK_EVENTS prediction events (default 200k) mapped to rows and written the way the monitor
 *    writes them (one insert per inbox transaction, into the ReplacingMergeTree; a transaction holds up to
 *    MONITOR_SINK_GROUP events of a partition, default 2,000; BENCH_SINK_GROUP overrides it), against a plain bulk
 *    insert of the same rows into a MergeTree of the same columns in the same run (aim: >= 0.5x); the same sink
 *    with the platform's default group (500) for reference; then the binner's pass over what the sink wrote (off
 *    the insert path).
 * 2. Drift: seconds to compute every drift statistic (PSI, JS, KS + p, normalized Wasserstein, chi-squared + p)
 *    of 20 features (16 numeric, 4 categorical) and the score over BENCH_PREDICTIONS predictions (default 10M,
 *    generated inside ClickHouse, 10 windows), with the monitor's own SQL (aim: < 2 s): OLD from the raw rows,
 *    NEW `drift()` as the loop calls it (a binner pass, then the histograms), in the same run, with the ratio and
 *    the largest difference between the two results; and the binner's first pass over the 10M predictions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_MAX_GROUP } from '@mlops/messaging';
import { createClickHouse } from '@mlops/storage';
import { MonitorConfigSpec } from '@mlops/monitor/dist/src/config';
import { predictionRow, referenceRows } from '@mlops/monitor/dist/src/domain';
import { MonitorTables, createMonitorTables } from '@mlops/monitor/dist/src/infrastructure/clickhouse-tables';
import { type DriftWindow, MonitorAnalytics } from '@mlops/monitor/dist/src/infrastructure/monitor-analytics';
import { PredictionBinner } from '@mlops/monitor/dist/src/infrastructure/prediction-binner';
import { ClickHouseSink } from '@mlops/monitor/dist/src/infrastructure/sink';

const SINK_EVENTS = Number(process.env.BENCH_SINK_EVENTS ?? 200_000);
// Events per inbox transaction: the monitor's consumer groups up to MONITOR_SINK_GROUP events of a partition.
const GROUP = Number(process.env.BENCH_SINK_GROUP ?? MonitorConfigSpec.MONITOR_SINK_GROUP.default);
const PREDICTIONS = Number(process.env.BENCH_PREDICTIONS ?? 10_000_000);
const WINDOWS = 10;
const DB = 'bench_monitor';
const NUMERIC = Array.from({ length: 16 }, (_, i) => `x${i}`);
const CATEGORICAL = Array.from({ length: 4 }, (_, i) => `c${i}`);
const BASE = Date.parse('2025-06-01T00:00:00Z');

async function timed<T>(what: string, run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await run();
  const seconds = (performance.now() - started) / 1000;
  console.log(`  ${what.padEnd(60)} ${seconds.toFixed(2).padStart(8)} s`);
  return { value, seconds };
}

function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}

function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
}

function quantileReference(values: number[], bins = 10) {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 0; k <= bins; k++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.round((k / bins) * (sorted.length - 1)))]!;
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    let bin = 0;
    while (bin < counts.length - 1 && v >= edges[bin + 1]!) bin++;
    counts[bin]!++;
  }
  return { kind: 'numeric' as const, binEdges: edges, counts, nullCount: 0 };
}

/** Reference histograms of the bench's features (standard normals, five categories) and of the score (uniform). */
function benchReferences(next: () => number) {
  const sample = () => Array.from({ length: 20_000 }, () => normal(next));
  return {
    referenceDistributions: Object.fromEntries([
      ...NUMERIC.map((f) => [f, quantileReference(sample())]),
      ...CATEGORICAL.map((f) => [
        f,
        { kind: 'categorical' as const, counts: { v0: 20, v1: 20, v2: 20, v3: 20, v4: 20 }, nullCount: 0 },
      ]),
    ]),
    predictionDistribution: quantileReference(Array.from({ length: 20_000 }, () => next())),
  };
}

async function sinkBench(dataDir: string): Promise<void> {
  const clickhouse = await createClickHouse({ dataDir, database: DB });
  await createMonitorTables(clickhouse, DB);
  await clickhouse.command({
    query: `CREATE TABLE ${DB}.plain_predictions AS ${DB}.${MonitorTables.predictions} ENGINE = MergeTree ORDER BY (model, version, timestamp)`,
  });
  const next = generator(7);
  const events = Array.from({ length: SINK_EVENTS }, (_, i) => ({
    id: randomUUID(),
    time: new Date(BASE + i).toISOString(),
    data: {
      requestId: `r-${i}`,
      model: 'bench',
      alias: 'production',
      version: 1,
      entityId: `e-${i % 50_000}`,
      features: Object.fromEntries([
        ...NUMERIC.map((f) => [f, normal(next)]),
        ...CATEGORICAL.map((f) => [f, `v${Math.floor(next() * 5)}`]),
      ]),
      missingFeatures: [],
      output: { value: next() },
      latencyMs: next() * 5,
      channel: 'http' as const,
      servingRole: 'primary' as const,
      timestamp: new Date(BASE + i).toISOString(),
    },
  }));
  console.log(`sink: ${SINK_EVENTS} prediction events, 20 features each`);
  const sink = new ClickHouseSink(clickhouse, DB);
  const viaSink = await timed(`monitor sink (map + one insert per ${GROUP} events, RMT)`, async () => {
    for (let i = 0; i < events.length; i += GROUP)
      await sink.write(
        MonitorTables.predictions,
        events.slice(i, i + GROUP).map((e) => predictionRow(e.id, e.time, e.data)),
      );
  });
  // The same sink with the platform's default group, for reference (a copy of the table).
  await clickhouse.command({
    query: `CREATE TABLE ${DB}.predictions_default_group AS ${DB}.${MonitorTables.predictions}`,
  });
  const defaultGroup = await timed(
    `the same, one insert per ${DEFAULT_MAX_GROUP} events (the consumer's default group)`,
    async () => {
      for (let i = 0; i < events.length; i += DEFAULT_MAX_GROUP)
        await clickhouse.insert({
          table: `${DB}.predictions_default_group`,
          values: events.slice(i, i + DEFAULT_MAX_GROUP).map((e) => predictionRow(e.id, e.time, e.data)),
          format: 'JSONEachRow',
        });
    },
  );
  const rows = events.map((e) => predictionRow(e.id, e.time, e.data));
  const plain = await timed('plain bulk insert of the same rows (one insert, MergeTree)', () =>
    clickhouse.insert({ table: `${DB}.plain_predictions`, values: rows, format: 'JSONEachRow' }),
  );
  const sinkRate = SINK_EVENTS / viaSink.seconds;
  const defaultRate = SINK_EVENTS / defaultGroup.seconds;
  const plainRate = SINK_EVENTS / plain.seconds;
  console.log(
    `  sink ${Math.round(sinkRate)} rows/s, plain bulk ${Math.round(plainRate)} rows/s: ${(sinkRate / plainRate).toFixed(2)}x (aim >= 0.5x); with groups of ${DEFAULT_MAX_GROUP} ${Math.round(defaultRate)} rows/s: ${(defaultRate / plainRate).toFixed(2)}x`,
  );
  // The version's reference, so that the binner bins every value (without one it only counts the predictions).
  await sink.write(MonitorTables.references, referenceRows({ model: 'bench', version: 1, ...benchReferences(next) }));
  await timed(`binner pass over the ${SINK_EVENTS} predictions the sink wrote (off the insert path)`, () =>
    new PredictionBinner(clickhouse, DB).catchUp(),
  );
  const stored = await (
    await clickhouse.query({
      query: `SELECT count() AS n FROM ${DB}.${MonitorTables.predictions} FINAL`,
      format: 'JSONEachRow',
    })
  ).json<{ n: string }>();
  console.log(`  rows stored by the sink: ${stored[0]?.n}`);
  await clickhouse.close();
}

async function driftBench(dataDir: string): Promise<void> {
  const clickhouse = await createClickHouse({ dataDir, database: DB });
  await createMonitorTables(clickhouse, DB);
  console.log(
    `drift: ${PREDICTIONS} predictions, 16 numeric + 4 categorical features and the score, ${WINDOWS} windows`,
  );
  const next = generator(11);
  const sink = new ClickHouseSink(clickhouse, DB);
  await sink.write(MonitorTables.references, referenceRows({ model: 'bench', version: 2, ...benchReferences(next) }));
  const windowMs = 3_600_000;
  const spanMs = WINDOWS * windowMs;
  // Half the windows shifted by 0.5 sd on every numeric feature: the drift is real work, not zeros.
  const numeric = NUMERIC.map(
    (f, i) =>
      `'${f}', (sqrt(-2 * log((cityHash64(number, ${i}) % 1000000 + 0.5) / 1000000)) * cos(2 * pi() * (cityHash64(number, ${i + 100}) % 1000000) / 1000000)) + if(number * ${WINDOWS} >= ${PREDICTIONS / 2} * ${WINDOWS}, 0.5, 0)`,
  ).join(', ');
  const categorical = CATEGORICAL.map(
    (f, i) => `'${f}', concat('v', toString(cityHash64(number, ${i + 200}) % 5))`,
  ).join(', ');
  await timed('generate the predictions inside ClickHouse', () =>
    clickhouse.command({
      query: `INSERT INTO ${DB}.${MonitorTables.predictions} (event_id, request_id, model, alias, version, serving_role,
          channel, entity_id, timestamp, score, output_label, num_features, cat_features, missing_features, latency_ms, logged_at)
        SELECT toString(number), toString(number), 'bench', 'production', 2, 'primary', 'http', toString(number % 100000),
          fromUnixTimestamp64Milli(toInt64(${BASE} + intDiv(number * ${spanMs}, ${PREDICTIONS})), 'UTC'),
          (cityHash64(number, 999) % 1000000) / 1000000, NULL,
          map(${numeric}), map(${categorical}), [], 1.0, now64(3)
        FROM numbers(${PREDICTIONS})`,
      clickhouse_settings: { min_insert_block_size_rows: '100000', min_insert_block_size_bytes: '0' },
    }),
  );
  const analytics = new MonitorAnalytics(clickhouse, DB);
  const first = await timed(`binner: first pass, bins all ${PREDICTIONS} predictions (off the insert path)`, () =>
    analytics.binner.catchUp(),
  );
  console.log(`  ${first.value.minutes} minutes binned`);
  const until = new Date(BASE + spanMs);
  const timeWindow = { by: 'time', seconds: windowMs / 1000 } as const;
  const raw = await timed('OLD: every drift statistic from the raw rows, all windows', () =>
    analytics.driftFromRows('bench', 2, timeWindow, 0, until),
  );
  const binned: Array<{ value: DriftWindow[]; seconds: number }> = [];
  for (const run of [1, 2, 3])
    binned.push(
      await timed(`NEW: drift() (binner pass + histograms), all windows (run ${run})`, () =>
        analytics.drift('bench', 2, timeWindow, 0, until),
      ),
    );
  const best = Math.min(...binned.map((b) => b.seconds));
  const windows = binned[0]!.value;
  const statistics = windows.reduce((s, w) => s + w.stats.length, 0);
  console.log(
    `  ${windows.length} windows x ${statistics / Math.max(1, windows.length)} features (score included); PSI of x0: first window ${windows[0]?.stats.find((s) => s.feature === 'x0')?.psi.toFixed(4)}, last ${windows[windows.length - 1]?.stats.find((s) => s.feature === 'x0')?.psi.toFixed(4)}`,
  );
  console.log(`  largest difference between the two paths, any statistic: ${largestDifference(raw.value, windows)}`);
  console.log(
    `  drift over ${PREDICTIONS} predictions: OLD ${raw.seconds.toFixed(2)} s, NEW ${best.toFixed(2)} s (best of 3): ${(raw.seconds / best).toFixed(1)}x faster (aim < 2 s)`,
  );
  const bins = await (
    await clickhouse.query({
      query: `SELECT count() AS n FROM ${DB}.${MonitorTables.predictionBins}`,
      format: 'JSONEachRow',
    })
  ).json<{ n: string }>();
  console.log(`  rows of ${MonitorTables.predictionBins}: ${bins[0]?.n}`);
  const lastKey = Math.floor((BASE + spanMs) / windowMs) - 1;
  await timed('NEW: one pass that finds one new window (the loop, incrementally)', () =>
    analytics.drift('bench', 2, timeWindow, lastKey, until),
  );
  await clickhouse.close();
}

/** The largest absolute difference of any statistic between two drift results (0 when the same windows and features). */
function largestDifference(a: DriftWindow[], b: DriftWindow[]): string {
  if (a.length !== b.length) return `different windows (${a.length} vs ${b.length})`;
  let largest = 0;
  a.forEach((w, i) => {
    const other = new Map(b[i]!.stats.map((s) => [s.feature, s]));
    if (w.rows !== b[i]!.rows) largest = Infinity;
    for (const s of w.stats) {
      const o = other.get(s.feature);
      if (!o || o.sampleSize !== s.sampleSize) largest = Infinity;
      else
        for (const key of ['psi', 'jsDistance', 'ksStatistic', 'ksPValue', 'wassersteinNorm', 'chiSquared'] as const)
          largest = Math.max(largest, Math.abs((s[key] ?? 0) - (o[key] ?? 0)));
    }
  });
  return largest.toExponential(2);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-monitor-'));
  try {
    const which = process.env.BENCH_PART ?? 'all';
    if (which !== 'drift') await sinkBench(dir);
    if (which !== 'sink') await driftBench(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
