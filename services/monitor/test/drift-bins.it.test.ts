// The histograms of the binner (prediction_minute_bins) against the REAL embedded ClickHouse: drift read from
// them equals drift read from the raw rows, a pass bins only the minutes inserted since the last one, a
// redelivered prediction is binned once, and the binned KS and Wasserstein stay within their stated bounds of the
// exact two-sample values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PREDICTION_FEATURE, referenceRows } from '../src/domain';
import { MonitorTables, chTimeOf, latestBinsWhere } from '../src/infrastructure/clickhouse-tables';
import type { DriftWindow } from '../src/infrastructure/monitor-analytics';
import { rebuildPredictionBins } from '../src/infrastructure/prediction-binner';
import { binCounts, categoricalReference, categories, normals, numericReference } from './fixtures';
import { embeddedMonitor } from './embedded';

const DATABASE = 'monitor_bins_test';
const MINUTE = 60_000;
const BASE = Date.parse('2025-07-01T00:00:00Z');
const until = new Date(BASE + 30 * MINUTE);
const window = { by: 'time', seconds: 120 } as const;
let sequence = 0;

const monitor = embeddedMonitor(DATABASE);

const referenceA = normals(4000, 0, 1, 101);
const referencePlan = categories(4000, { basic: 5, premium: 3, enterprise: 2 }, 102);
const referenceScores = normals(4000, 0.3, 0.1, 103);

async function registerVersion(model: string): Promise<void> {
  await monitor.sink.write(
    MonitorTables.references,
    referenceRows({
      model,
      version: 1,
      referenceDistributions: { a: numericReference(referenceA), plan: categoricalReference(referencePlan) },
      predictionDistribution: numericReference(referenceScores),
    }),
  );
}

/** `count` predictions spread over `minutes` minutes from `start`; a shifted, with an unseen category. */
function predictionRows(model: string, count: number, shift: number, seed: number, start = BASE, minutes = 6) {
  const a = normals(count, shift, 1, seed);
  const plan = categories(count, { basic: 3, premium: 3, enterprise: 2, trial: shift > 0 ? 2 : 0 }, seed + 1);
  const scores = normals(count, 0.3 + shift / 10, 0.1, seed + 2);
  const edges = numericReference(referenceA).binEdges;
  return a.map((value, i) => ({
    event_id: `b-${++sequence}`,
    request_id: `r-${sequence}`,
    model,
    alias: 'production',
    version: 1,
    serving_role: 'primary',
    channel: 'http',
    entity_id: `c-${sequence}`,
    timestamp: chTimeOf(start + Math.floor((i * minutes * MINUTE) / count)),
    score: scores[i]!,
    output_label: null,
    // every 50th value sits exactly on an inner edge: both paths must send it to the bin on the right
    num_features: { a: i % 50 === 0 ? edges[1 + (i % 7)]! : value },
    cat_features: { plan: plan[i]! },
    missing_features: [],
    latency_ms: 1,
    logged_at: chTimeOf(start),
  }));
}

function assertSameDrift(binned: DriftWindow[], raw: DriftWindow[]): void {
  assert.deepEqual(
    binned.map((w) => [w.key, w.start, w.end, w.rows, w.alias]),
    raw.map((w) => [w.key, w.start, w.end, w.rows, w.alias]),
  );
  binned.forEach((w, i) => {
    const rawStats = new Map(raw[i]!.stats.map((s) => [s.feature, s]));
    assert.equal(w.stats.length, rawStats.size);
    for (const s of w.stats) {
      const r = rawStats.get(s.feature)!;
      assert.equal(s.sampleSize, r.sampleSize, `${s.feature} sample size`);
      for (const key of ['psi', 'jsDistance', 'ksStatistic', 'ksPValue', 'wassersteinNorm', 'chiSquared'] as const) {
        const x = s[key];
        const y = r[key];
        assert.ok(
          x === y || (x !== null && y !== null && Math.abs(x - y) <= 1e-9),
          `${s.feature} ${key}: ${x} != ${y}`,
        );
      }
    }
  });
}

test('drift read from the bins equals drift read from the raw rows, window by window', async () => {
  const model = 'bins-equal-raw';
  await registerVersion(model);
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, 1500, 0, 11));
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, 1500, 0.6, 21, BASE + 6 * MINUTE));
  await monitor.analytics.binner.catchUp();
  const raw = await monitor.analytics.driftFromRows(model, 1, window, 0, until);
  const binned = await monitor.analytics.driftFromBins(model, 1, window, 0, until);
  assert.equal(raw.length, 6, 'six windows of two minutes');
  assertSameDrift(binned, raw);
  const features = binned[0]!.stats.map((s) => s.feature).sort();
  assert.deepEqual(features, [PREDICTION_FEATURE, 'a', 'plan'].sort());
  const psiLast = binned[5]!.stats.find((s) => s.feature === 'a')!.psi;
  assert.ok(psiLast > 0.1, `the shifted windows drift (PSI ${psiLast})`);
});

test('a later pass reads the bins of its windows only, with the same values', async () => {
  const model = 'bins-from-key';
  await registerVersion(model);
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, 1200, 0.3, 31));
  await monitor.analytics.binner.catchUp();
  const all = await monitor.analytics.driftFromBins(model, 1, window, 0, until);
  const later = await monitor.analytics.driftFromBins(model, 1, window, all[1]!.key, until);
  assert.deepEqual(
    later.map((w) => w.key),
    all.slice(1).map((w) => w.key),
  );
  assertSameDrift(later, all.slice(1));
});

test('drift() reads the bins: it still answers once the raw rows are gone', async () => {
  const model = 'bins-used';
  await registerVersion(model);
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, 600, 0, 41));
  const before = await monitor.analytics.drift(model, 1, window, 0, until);
  await monitor.clickhouse.command({
    query: `ALTER TABLE ${DATABASE}.${MonitorTables.predictions} DELETE WHERE model = {m:String}`,
    query_params: { m: model },
    clickhouse_settings: { mutations_sync: '1' },
  });
  assert.deepEqual(await monitor.analytics.driftFromRows(model, 1, window, 0, until), [], 'no raw rows left');
  const after = await monitor.analytics.drift(model, 1, window, 0, until);
  assert.equal(after.length, 3);
  assertSameDrift(after, before);
});

/** Predictions of the model counted by the latest binning of each minute. */
async function binnedCount(model: string): Promise<number> {
  const counted = await (
    await monitor.clickhouse.query({
      query: `SELECT sum(predictions) AS n FROM ${DATABASE}.${MonitorTables.predictionBins}
              WHERE feature = '' AND ${latestBinsWhere(DATABASE, 'minute >= toDateTime(0)')}`,
      format: 'JSONEachRow',
      query_params: { model, version: 1 },
    })
  ).json<{ n: string | number }>();
  return Number(counted[0]?.n ?? 0);
}

test('a pass bins only the minutes that got predictions since the last pass', async () => {
  const model = 'bins-incremental';
  await registerVersion(model);
  await monitor.analytics.binner.catchUp();
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, 300, 0, 71, BASE, 3));
  assert.equal((await monitor.analytics.binner.catchUp()).minutes, 3, 'the three minutes written');
  assert.equal((await monitor.analytics.binner.catchUp()).minutes, 0, 'nothing new');
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, 50, 0, 72, BASE + 10 * MINUTE, 1));
  assert.equal((await monitor.analytics.binner.catchUp()).minutes, 1, 'only the minute written since');
  assert.equal(await binnedCount(model), 350);
  assertSameDrift(
    await monitor.analytics.driftFromBins(model, 1, window, 0, until),
    await monitor.analytics.driftFromRows(model, 1, window, 0, until),
  );
});

test('a prediction written again (a redelivery after a failed commit) is binned once', async () => {
  const model = 'bins-once';
  await registerVersion(model);
  const rows = predictionRows(model, 400, 0, 51);
  await monitor.sink.write(MonitorTables.predictions, rows);
  await monitor.sink.write(MonitorTables.predictions, rows.slice(100, 250));
  await monitor.analytics.binner.catchUp();
  assert.equal(await binnedCount(model), 400, 'copies written before the pass');
  await monitor.sink.write(MonitorTables.predictions, rows.slice(0, 300));
  await monitor.analytics.binner.catchUp();
  assert.equal(await binnedCount(model), 400, 'copies written after the pass');
  const binned = await monitor.analytics.driftFromBins(model, 1, window, 0, until);
  assert.deepEqual(
    binned.map((w) => w.rows),
    [134, 133, 133],
  );
  assertSameDrift(binned, await monitor.analytics.driftFromRows(model, 1, window, 0, until));
});

test('predictions binned before their version reference are read from the raw rows, then binned again once it arrives', async () => {
  const model = 'bins-late-reference';
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, 500, 0.4, 61));
  await monitor.analytics.binner.catchUp();
  assert.deepEqual(await monitor.analytics.drift(model, 1, window, 0, until), [], 'no reference: no drift');
  assert.equal(await monitor.analytics.unbinnedPredictions(model, 1, window.seconds * 1000, 0, until), 500);
  await registerVersion(model);
  const raw = await monitor.analytics.driftFromRows(model, 1, window, 0, until);
  const chosen = await monitor.analytics.drift(model, 1, window, 0, until);
  assert.equal(raw.length, 3);
  assertSameDrift(chosen, raw);
  assert.equal(await monitor.analytics.unbinnedPredictions(model, 1, window.seconds * 1000, 0, until), 0);
  assertSameDrift(await monitor.analytics.driftFromBins(model, 1, window, 0, until), raw);
});

test('a rebuild bins every stored prediction again, with the same drift', async () => {
  const model = 'bins-rebuild';
  await registerVersion(model);
  await monitor.sink.write(MonitorTables.predictions, predictionRows(model, 600, 0.2, 81));
  const before = await monitor.analytics.drift(model, 1, window, 0, until);
  const pass = await rebuildPredictionBins(monitor.clickhouse, DATABASE);
  assert.ok(pass.minutes >= 6, `every minute stored binned again (${pass.minutes})`);
  assert.equal(await binnedCount(model), 600);
  assertSameDrift(await monitor.analytics.driftFromBins(model, 1, window, 0, until), before);
});

// ---- exact two-sample statistics, to bound what binning costs ----

/** sup |F_p - F_q| over every value of both samples. */
function exactKs(live: readonly number[], reference: readonly number[]): number {
  const p = [...live].sort((x, y) => x - y);
  const q = [...reference].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < p.length || j < q.length) {
    const x = Math.min(p[i] ?? Infinity, q[j] ?? Infinity);
    while (i < p.length && p[i]! <= x) i++;
    while (j < q.length && q[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / p.length - j / q.length));
  }
  return d;
}

/** Integral of |F_p - F_q| (Wasserstein-1 of the two samples). */
function exactWasserstein(live: readonly number[], reference: readonly number[]): number {
  const p = [...live].sort((x, y) => x - y);
  const q = [...reference].sort((x, y) => x - y);
  const points = [...new Set([...p, ...q])].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  let w = 0;
  for (let k = 0; k < points.length - 1; k++) {
    while (i < p.length && p[i]! <= points[k]!) i++;
    while (j < q.length && q[j]! <= points[k]!) j++;
    w += Math.abs(i / p.length - j / q.length) * (points[k + 1]! - points[k]!);
  }
  return w;
}

test('binned KS and Wasserstein are within the README bounds of the exact two-sample values', async () => {
  const model = 'bins-exact';
  await registerVersion(model);
  for (const [shift, seed] of [
    [0, 71],
    [0.25, 81],
    [1, 91],
  ] as const) {
    const start = BASE + (seed - 71) * MINUTE;
    const rows = predictionRows(model, 3000, shift, seed, start, 1).map((r, i) => ({
      ...r,
      num_features: { a: normals(3000, shift, 1, seed)[i]! },
    }));
    await monitor.sink.write(MonitorTables.predictions, rows);
    await monitor.analytics.binner.catchUp();
    const [w] = await monitor.analytics.driftFromBins(model, 1, { by: 'time', seconds: 60 }, start / MINUTE, until);
    const a = w!.stats.find((s) => s.feature === 'a')!;
    const live = rows.map((r) => r.num_features.a);
    const edges = numericReference(referenceA).binEdges;
    const p = binCounts(live, edges).map((c) => c / live.length);
    const q = numericReference(referenceA).counts.map((c) => c / referenceA.length);
    // KS: the binned D reads the exact CDFs at the edges, so D_binned <= D <= D_binned + max bin share
    const ks = exactKs(live, referenceA);
    const ksBound = Math.max(...p, ...q);
    assert.ok(a.ksStatistic! <= ks + 1e-12, `binned KS ${a.ksStatistic} <= exact ${ks}`);
    assert.ok(ks - a.ksStatistic! <= ksBound, `exact KS ${ks} - binned ${a.ksStatistic} <= ${ksBound}`);
    // Wasserstein: moving each value to its bin center moves it by at most half the bin width, or by its distance
    // to the center of a clamped end bin: |W_binned - W| <= sum (p_i + q_i) w_i / 2 + live mass beyond the edges
    const centers = p.map((_, i) => (edges[i]! + edges[i + 1]!) / 2);
    const mean = centers.reduce((s, c, i) => s + c * q[i]!, 0);
    const std = Math.sqrt(centers.reduce((s, c, i) => s + q[i]! * (c - mean) ** 2, 0));
    const halfWidths = p.reduce((s, pi, i) => s + ((pi + q[i]!) * (edges[i + 1]! - edges[i]!)) / 2, 0);
    const first = edges[0]!;
    const last = edges[edges.length - 1]!;
    const tails = live.reduce((s, x) => s + Math.max(0, first - x) + Math.max(0, x - last), 0) / live.length;
    const wBound = (halfWidths + tails) / std;
    const wExact = exactWasserstein(live, referenceA) / std;
    assert.ok(
      Math.abs(a.wassersteinNorm! - wExact) <= wBound,
      `|binned W ${a.wassersteinNorm} - exact ${wExact}| <= ${wBound}`,
    );
  }
});
