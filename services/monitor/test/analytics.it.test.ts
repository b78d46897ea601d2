// The drift and performance SQL against the REAL embedded ClickHouse (chdb) in a temporary directory of this
// process: statistics computed by ClickHouse must equal the reference formulas of src/domain on the same data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PREDICTION_FEATURE,
  chiSquared,
  jensenShannonDistance,
  judgeWindow,
  kolmogorovSmirnov,
  normalizedWasserstein,
  psi,
  referenceRows,
} from '../src/domain';
import { chTimeOf, MonitorTables } from '../src/infrastructure/clickhouse-tables';
import { binCounts, categoricalReference, categories, normals, numericReference } from './fixtures';
import { embeddedMonitor } from './embedded';

const DATABASE = 'monitor_analytics_test';
const MINUTE = 60_000;
const BASE = Date.parse('2025-05-01T00:00:00Z');
let sequence = 0;

const monitor = embeddedMonitor(DATABASE);

const reference = { a: normals(5000, 0, 1, 1), plan: categories(5000, { basic: 5, premium: 3, enterprise: 2 }, 2) };
const scores = normals(5000, 0.3, 0.1, 3);

async function registerVersion(model: string): Promise<void> {
  await monitor.sink.write(
    MonitorTables.references,
    referenceRows({
      model,
      version: 1,
      referenceDistributions: { a: numericReference(reference.a), plan: categoricalReference(reference.plan) },
      predictionDistribution: numericReference(scores),
    }),
  );
}

interface Live {
  a: number;
  plan: string;
  score: number;
  at: number;
  entity?: string;
  role?: string;
}

function predictionRows(model: string, live: readonly Live[]): Record<string, unknown>[] {
  return live.map((p) => ({
    event_id: `e-${++sequence}`,
    request_id: `r-${sequence}`,
    model,
    alias: 'production',
    version: 1,
    serving_role: p.role ?? 'primary',
    channel: 'http',
    entity_id: p.entity ?? `c-${sequence}`,
    timestamp: chTimeOf(p.at),
    score: p.score,
    output_label: null,
    num_features: { a: p.a },
    cat_features: { plan: p.plan },
    missing_features: [],
    latency_ms: 1,
    logged_at: chTimeOf(p.at),
  }));
}

function liveSample(count: number, shift: number, seed: number, start = BASE): Live[] {
  const a = normals(count, shift, 1, seed);
  const plan = categories(
    count,
    shift === 0 ? { basic: 5, premium: 3, enterprise: 2 } : { basic: 2, premium: 3, enterprise: 5 },
    seed + 1,
  );
  const s = normals(count, 0.3 + shift / 10, 0.1, seed + 2);
  return a.map((value, i) => ({
    a: value,
    plan: plan[i]!,
    score: s[i]!,
    at: start + Math.floor((i * MINUTE) / count),
  }));
}

const until = new Date(BASE + 10 * MINUTE);

test('ClickHouse computes every statistic as the reference formulas do on the same histograms', async () => {
  const model = 'same-formulas';
  await registerVersion(model);
  const live = liveSample(800, 0.4, 11);
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, live));
  const [window] = await monitor.analytics.drift(model, 1, { by: 'time', seconds: 60 }, 0, until);
  assert.ok(window);
  const byFeature = new Map(window.stats.map((s) => [s.feature, s]));

  const edges = numericReference(reference.a).binEdges;
  const liveCounts = binCounts(
    live.map((p) => p.a),
    edges,
  );
  const refCounts = numericReference(reference.a).counts;
  const a = byFeature.get('a')!;
  const close = (x: number | null, y: number): void => assert.ok(x !== null && Math.abs(x - y) < 1e-9, `${x} != ${y}`);
  close(a.psi, psi(liveCounts, refCounts));
  close(a.jsDistance, jensenShannonDistance(liveCounts, refCounts));
  close(a.ksStatistic, kolmogorovSmirnov(liveCounts, refCounts).statistic);
  close(a.ksPValue, kolmogorovSmirnov(liveCounts, refCounts).pValue);
  close(a.wassersteinNorm, normalizedWasserstein(liveCounts, refCounts, edges));
  assert.equal(a.sampleSize, 800);

  const ref = categoricalReference(reference.plan).counts;
  const names = Object.keys(ref);
  const observed = [...names.map((n) => live.filter((p) => p.plan === n).length), 0];
  const expectedRef = [...names.map((n) => ref[n]!), 0];
  const plan = byFeature.get('plan')!;
  close(plan.psi, psi(observed, expectedRef));
  close(plan.chiSquared, chiSquared(observed, expectedRef).statistic);
  close(plan.chiSquaredPValue, chiSquared(observed, expectedRef).pValue);
  assert.ok(byFeature.has(PREDICTION_FEATURE), 'the score is compared too');
});

test('a normal shifted by one standard deviation drifts; a sample of the reference distribution does not', async () => {
  const model = 'shift-one-sd';
  await registerVersion(model);
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, liveSample(1000, 0, 21, BASE)));
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, liveSample(1000, 1, 31, BASE + MINUTE)));
  const windows = await monitor.analytics.drift(model, 1, { by: 'time', seconds: 60 }, 0, until);
  assert.equal(windows.length, 2);
  const [same, shifted] = windows.map((w) => judgeWindow(w.stats));
  assert.deepEqual(same!.driftedFeatures, []);
  assert.equal(same!.datasetDrifted, false);
  assert.deepEqual([...shifted!.driftedFeatures].sort(), [PREDICTION_FEATURE, 'a', 'plan'].sort());
  assert.equal(shifted!.datasetDrifted, true);
  const psiOfA = windows[1]!.stats.find((s) => s.feature === 'a')!.psi;
  assert.ok(psiOfA > 0.25, `PSI ${psiOfA} of a 1-sd shift is over the critical tier`);
  const next = await monitor.analytics.drift(model, 1, { by: 'time', seconds: 60 }, windows[1]!.key, until);
  assert.deepEqual(
    next.map((w) => w.key),
    [windows[1]!.key],
    'a later pass reads from its first window on',
  );
});

test('count windows hold exactly their size; the incomplete last one is left for later', async () => {
  const model = 'count-windows';
  await registerVersion(model);
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, liveSample(1000, 0, 41)));
  const windows = await monitor.analytics.drift(model, 1, { by: 'count', size: 300 }, 0, until);
  assert.deepEqual(
    windows.map((w) => [w.key, w.rows]),
    [
      [0, 300],
      [1, 300],
      [2, 300],
    ],
  );
  const later = await monitor.analytics.drift(model, 1, { by: 'count', size: 300 }, 2, until);
  assert.deepEqual(
    later.map((w) => w.key),
    [2],
  );
});

test('a prediction written twice (a redelivery after a failed commit) is counted once', async () => {
  const model = 'written-twice';
  await registerVersion(model);
  const rows = predictionRows(model, liveSample(100, 0, 51));
  // No background merge may remove the copy before the read: the read itself must count it once.
  await monitor.clickhouse.command({ query: `SYSTEM STOP MERGES ${DATABASE}.${MonitorTables.predictions}` });
  try {
    await monitor.sink.write(MonitorTables.predictions, rows);
    await monitor.sink.write(MonitorTables.predictions, rows.slice(0, 40));
    const raw = await (
      await monitor.clickhouse.query({
        query: `SELECT count() AS n FROM ${DATABASE}.${MonitorTables.predictions} WHERE model = {m:String}`,
        format: 'JSONEachRow',
        query_params: { m: model },
      })
    ).json<{ n: string | number }>();
    assert.equal(Number(raw[0]?.n), 140, 'both copies are stored');
  } finally {
    await monitor.clickhouse.command({ query: `SYSTEM START MERGES ${DATABASE}.${MonitorTables.predictions}` });
  }
  const [window] = await monitor.analytics.drift(model, 1, { by: 'time', seconds: 60 }, 0, until);
  assert.equal(window?.rows, 100);
  assert.equal(window?.stats.find((s) => s.feature === 'a')?.sampleSize, 100);
});

test('live performance joins the first label after each prediction within the horizon', async () => {
  const model = 'perf-join';
  await registerVersion(model);
  const t = BASE + 5 * MINUTE;
  // c1 right (0.9 vs 1), c2 wrong (0.8 vs 0), c3 right (0.2 vs 0), c4 label too late, c5 label before the prediction.
  const live: Live[] = [
    { a: 0, plan: 'basic', score: 0.9, at: t, entity: 'c1' },
    { a: 0, plan: 'basic', score: 0.8, at: t + 1000, entity: 'c2' },
    { a: 0, plan: 'basic', score: 0.2, at: t + 2000, entity: 'c3' },
    { a: 0, plan: 'basic', score: 0.7, at: t + 3000, entity: 'c4' },
    { a: 0, plan: 'basic', score: 0.6, at: t + 4000, entity: 'c5' },
  ];
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, live));
  const label = (entity: string, at: number, churned: boolean): Record<string, unknown> => ({
    event_id: `l-${++sequence}`,
    dataset: 'perf_labels',
    dataset_version: 1,
    entity_id: entity,
    event_time: chTimeOf(at),
    validated_at: chTimeOf(at),
    record: '{}',
    num_values: { churned: churned ? 1 : 0 },
    str_values: {},
  });
  await monitor.sink.write(MonitorTables.labels, [
    label('c1', t + 10_000, true),
    label('c1', t + 20_000, false),
    label('c2', t + 10_000, false),
    label('c3', t + 10_000, false),
    label('c4', t + 3000 + 120_000, true),
    label('c5', t - 10_000, false),
  ]);
  const [window] = await monitor.analytics.performance(
    model,
    1,
    { dataset: 'perf_labels', field: 'churned' },
    60 * MINUTE,
    60_000,
    0,
    new Date(BASE + 3 * 60 * MINUTE),
  );
  assert.ok(window);
  assert.equal(window.predictions, 5);
  assert.equal(window.labeled, 3);
  assert.equal(window.metrics.accuracy, 2 / 3);
  assert.equal(window.metrics.precision, 1 / 2);
  assert.equal(window.metrics.recall, 1);
  assert.equal(window.metrics.auc, 1);
});

test('a performance window is not judged before its labels had the horizon to arrive', async () => {
  const model = 'perf-horizon';
  await registerVersion(model);
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, liveSample(10, 0, 61)));
  const labels = { dataset: 'none', field: 'churned' };
  const early = await monitor.analytics.performance(
    model,
    1,
    labels,
    MINUTE,
    60 * MINUTE,
    0,
    new Date(BASE + 30 * MINUTE),
  );
  assert.deepEqual(early, []);
  const late = await monitor.analytics.performance(
    model,
    1,
    labels,
    MINUTE,
    60 * MINUTE,
    0,
    new Date(BASE + 62 * MINUTE),
  );
  assert.equal(late.length, 1);
});

test('the operations views: latency percentiles per minute, deployment success rate, feedback-loop time', async () => {
  const model = 'ops-views';
  const at = BASE + 30 * MINUTE;
  const rows = predictionRows(
    model,
    Array.from({ length: 100 }, (_, i) => ({ a: 0, plan: 'basic', score: 0.1, at: at + i })),
  ).map((row, i) => ({ ...row, latency_ms: i + 1 }));
  await monitor.sink.write(MonitorTables.predictions, rows);
  const volume = await (
    await monitor.clickhouse.query({
      query: `SELECT predictions, latency_p50_ms, latency_p99_ms FROM ${DATABASE}.prediction_volume WHERE model = {m:String}`,
      format: 'JSONEachRow',
      query_params: { m: model },
    })
  ).json<{ predictions: string | number; latency_p50_ms: number; latency_p99_ms: number }>();
  assert.equal(Number(volume[0]?.predictions), 100);
  assert.ok(Math.abs(volume[0]!.latency_p50_ms - 50.5) < 1, `p50 ${volume[0]!.latency_p50_ms}`);
  assert.ok(Math.abs(volume[0]!.latency_p99_ms - 99) < 1.5, `p99 ${volume[0]!.latency_p99_ms}`);

  const deployment = (version: number, outcome: string, time: number): Record<string, unknown> => ({
    event_id: `d-${++sequence}`,
    model,
    alias: 'production',
    version,
    outcome,
    strategy: 'hot_swap',
    instance_id: 'i1',
    previous_version: null,
    stage: null,
    error_code: null,
    warmup_ms: 5,
    at: chTimeOf(time),
  });
  await monitor.sink.write(MonitorTables.deployments, [
    deployment(1, 'succeeded', at - MINUTE),
    deployment(2, 'failed', at + 2 * MINUTE),
    deployment(2, 'succeeded', at + 5 * MINUTE),
  ]);
  await monitor.sink.write(MonitorTables.registryEvents, [
    {
      event_id: `r-${++sequence}`,
      kind: 'drift_detected',
      model,
      version: 1,
      alias: 'production',
      training_run_id: null,
      trigger: null,
      at: chTimeOf(at),
      detail: '{}',
    },
  ]);
  const stats = await (
    await monitor.clickhouse.query({
      query: `SELECT sum(deployments) AS n, sum(succeeded) / sum(deployments) AS rate FROM ${DATABASE}.deployment_stats WHERE model = {m:String}`,
      format: 'JSONEachRow',
      query_params: { m: model },
    })
  ).json<{ n: string | number; rate: number }>();
  assert.equal(Number(stats[0]?.n), 3);
  assert.equal(stats[0]?.rate, 2 / 3);
  const loop = await (
    await monitor.clickhouse.query({
      query: `SELECT new_version, loop_seconds FROM ${DATABASE}.feedback_loop WHERE model = {m:String}`,
      format: 'JSONEachRow',
      query_params: { m: model },
    })
  ).json<{ new_version: number; loop_seconds: number }>();
  assert.deepEqual(loop, [{ new_version: 2, loop_seconds: 300 }]);
});

test('a label carrying the request id is joined by it, whatever its time', async () => {
  const model = 'perf-request-id';
  await registerVersion(model);
  const t = BASE + 7 * MINUTE;
  const rows = predictionRows(model, [
    { a: 0, plan: 'basic', score: 0.9, at: t, entity: 'r1' },
    { a: 0, plan: 'basic', score: 0.2, at: t + 1000, entity: 'r2' },
  ]);
  await monitor.sink.write(MonitorTables.predictions, rows);
  // Labels known before the predictions' time (a batch import), by request id: the entity/time join skips them.
  await monitor.sink.write(
    MonitorTables.labels,
    rows.map((row, i) => ({
      event_id: `l-${++sequence}`,
      dataset: 'request_labels',
      dataset_version: 1,
      entity_id: row.entity_id,
      event_time: chTimeOf(t - MINUTE),
      validated_at: chTimeOf(t - MINUTE),
      record: '{}',
      num_values: { churned: i === 0 ? 1 : 1 },
      str_values: { request_id: row.request_id },
    })),
  );
  const until = new Date(BASE + 3 * 60 * MINUTE);
  const run = (requestIdField: string | null) =>
    monitor.analytics.performance(
      model,
      1,
      { dataset: 'request_labels', field: 'churned', requestIdField },
      60 * MINUTE,
      MINUTE,
      0,
      until,
    );
  const [byEntity] = await run(null);
  assert.equal(byEntity?.labeled, 0);
  const [byRequest] = await run('request_id');
  assert.equal(byRequest?.labeled, 2);
  assert.equal(byRequest?.metrics.accuracy, 0.5);
});
