import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { type Algorithm, exportOnnx, trainPipeline } from '@mlops/ml';
import { SaabasExplainer } from '../src/domain/saabas';
import { TreeEnsemble } from '../src/domain/tree-ensemble';
import { churnTable } from './support';

/** Rows of churn data (some spend missing, one unseen plan, one missing plan) and the model's scores for them. */
async function scored(algorithm: Algorithm, task: 'binary' | 'regression') {
  const { table, labels } = churnTable(400, 7);
  const targets = task === 'binary' ? labels : Float64Array.from(labels, (l, i) => l * 10 + (i % 7));
  const { model } = trainPipeline(table, targets, task, algorithm, { iterations: 20 }, 7);
  const exported = exportOnnx(model, { modelName: 'churn', producerVersion: 'test' });
  const rows = [
    { numeric: [10, 150], plan: 'basic' },
    { numeric: [900, Number.NaN], plan: 'premium' },
    { numeric: [250, 60.5], plan: 'unheard-of' },
    { numeric: [Number.NaN, Number.NaN], plan: '' },
    { numeric: [400, 99], plan: 'enterprise' },
  ];
  const session = await ort.InferenceSession.create(exported.bytes);
  const results = await session.run({
    features: new ort.Tensor('float32', Float32Array.from(rows.flatMap((r) => r.numeric)), [rows.length, 2]),
    plan: new ort.Tensor(
      'string',
      rows.map((r) => r.plan),
      [rows.length, 1],
    ),
  });
  await session.release();
  const scores = Array.from(results.score?.data as Float32Array);
  const ensemble = TreeEnsemble.of(exported.bytes, ['tenure_days', 'monthly_spend'], ['plan']);
  assert.ok(ensemble, 'the ensemble read from the graph');
  const explainer = new SaabasExplainer(ensemble);
  return { rows, scores, explainer };
}

test('Saabas contributions of a GBDT classifier sum to its margin (the log-odds ONNX Runtime scores)', async () => {
  const { rows, scores, explainer } = await scored('gradient_boosting', 'binary');
  rows.forEach((row, i) => {
    const explained = explainer.explain({
      numeric: Float32Array.from(row.numeric),
      categorical: { plan: row.plan },
    });
    const p = scores[i] as number;
    const logOdds = Math.log(p / (1 - p));
    assert.ok(Math.abs(explained.margin - logOdds) < 1e-3, `row ${i}: margin ${explained.margin} vs ${logOdds}`);
    const sum = Object.values(explained.contributions).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(explained.baseline + sum - explained.margin) < 1e-9, `row ${i}: not additive`);
    assert.deepEqual(Object.keys(explained.contributions).sort(), ['monthly_spend', 'plan', 'tenure_days']);
  });
  // Rows that differ are explained differently: the contributions are the row's, not a constant.
  const a = explainer.explain({ numeric: Float32Array.of(10, 150), categorical: { plan: 'basic' } });
  const b = explainer.explain({ numeric: Float32Array.of(900, 20), categorical: { plan: 'premium' } });
  assert.notDeepEqual(a.contributions, b.contributions);
});

test('Saabas contributions of a GBDT regressor sum to its predicted value', async () => {
  const { rows, scores, explainer } = await scored('gradient_boosting', 'regression');
  rows.forEach((row, i) => {
    const explained = explainer.explain({ numeric: Float32Array.from(row.numeric), categorical: { plan: row.plan } });
    const sum = Object.values(explained.contributions).reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(explained.margin - (scores[i] as number)) < 1e-3 * Math.max(1, Math.abs(explained.margin)));
    assert.ok(Math.abs(explained.baseline + sum - explained.margin) < 1e-9);
  });
});
