import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  compareOutputs,
  createRng,
  exportOnnx,
  onnxFeeds,
  predictModel,
  trainPipeline,
  type Algorithm,
  type RawTable,
  type Task,
  type TrainedModel,
} from '../src';

/** Three numeric features (10% missing) and a city; the label depends on both, nonlinearly. */
function dataset(
  rows: number,
  seed: number,
  cities: readonly string[],
): { table: RawTable; labels: Float64Array; values: Float64Array } {
  const rng = createRng(seed);
  const a = new Float64Array(rows);
  const b = new Float64Array(rows);
  const c = new Float64Array(rows);
  const city: (string | null)[] = [];
  const labels = new Float64Array(rows);
  const values = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    a[i] = rng.next() * 4 - 2;
    b[i] = rng.next() * 100;
    c[i] = rng.next() < 0.1 ? Number.NaN : rng.next();
    city.push(rng.next() < 0.05 ? null : (cities[rng.int(cities.length)] as string));
    const signal =
      (a[i] as number) * ((b[i] as number) > 50 ? 1 : -1) +
      (city[i] === 'paris' ? 1 : 0) +
      (Number.isNaN(c[i] as number) ? 1 : 0);
    labels[i] = signal + rng.next() - 0.5 > 0 ? 1 : 0;
    values[i] = 1000 * signal + rng.next();
  }
  return {
    table: {
      rows,
      columns: [
        { name: 'a', kind: 'numeric', values: a },
        { name: 'b', kind: 'numeric', values: b },
        { name: 'c', kind: 'numeric', values: c },
        { name: 'city', kind: 'categorical', values: city },
      ],
    },
    labels,
    values,
  };
}

async function runOnnx(
  bytes: Uint8Array,
  table: RawTable,
  task: Task,
): Promise<{ scores: Float32Array; labels: BigInt64Array | null }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, feed] of Object.entries(onnxFeeds(table))) {
    feeds[name] =
      feed.type === 'float32'
        ? new ort.Tensor('float32', feed.data, [...feed.dims])
        : new ort.Tensor('string', feed.data, [...feed.dims]);
  }
  const out = await session.run(feeds);
  await session.release();
  const scores = out['score']?.data as Float32Array;
  if (task === 'regression') return { scores, labels: null };
  const probabilities = out['probabilities']?.data as Float32Array;
  assert.deepEqual(
    probabilities.filter((_, i) => i % 2 === 1),
    scores,
  );
  return { scores, labels: out['label']?.data as BigInt64Array };
}

const train = dataset(2000, 1, ['paris', 'oslo', 'rome']);
// The holdout has a city never seen in training.
const holdout = dataset(500, 2, ['paris', 'oslo', 'rome', 'lima']);
const SMALL = { iterations: 30, trees: 15 };

function trainFor(algorithm: Algorithm, task: Task): TrainedModel {
  return trainPipeline(train.table, task === 'binary' ? train.labels : train.values, task, algorithm, SMALL, 7).model;
}

const cases: readonly [Algorithm, Task][] = [
  ['logistic_regression', 'binary'],
  ['gradient_boosting', 'binary'],
  ['random_forest', 'binary'],
  ['linear_regression', 'regression'],
  ['gradient_boosting', 'regression'],
  ['random_forest', 'regression'],
];

for (const [algorithm, task] of cases) {
  test(`ONNX Runtime gives the TypeScript ${algorithm} ${task} outputs on raw rows with missing values and an unseen category`, async () => {
    const model = trainFor(algorithm, task);
    const exported = exportOnnx(model, { modelName: 'm', producerVersion: 'test' });
    const onnx = await runOnnx(exported.bytes, holdout.table, task);
    const expected = predictModel(model, holdout.table);
    const report = compareOutputs(task, expected, onnx.scores);
    assert.equal(report.firstMismatch, null, JSON.stringify(report));
    if (onnx.labels) {
      onnx.labels.forEach((label, row) => {
        const p = expected[row] as number;
        if (Math.abs(p - 0.5) > 1e-5) assert.equal(Number(label), p >= 0.5 ? 1 : 0);
      });
    }
  });
}

test('the signature names the raw inputs in order with their types, and the outputs', () => {
  const exported = exportOnnx(trainFor('logistic_regression', 'binary'), { modelName: 'm', producerVersion: 'test' });
  assert.deepEqual(exported.signature, {
    inputName: 'features',
    inputDtype: 'float32',
    featureNames: ['a', 'b', 'c'],
    outputName: 'score',
    inputs: [
      { name: 'features', dtype: 'float32', features: ['a', 'b', 'c'] },
      { name: 'city', dtype: 'string', features: ['city'] },
    ],
    outputs: [
      { name: 'score', dtype: 'float32', shape: [-1, 1] },
      { name: 'label', dtype: 'int64', shape: [-1] },
      { name: 'probabilities', dtype: 'float32', shape: [-1, 2] },
    ],
  });
});

test('the same data, params and seed give a byte-identical ONNX file; another seed another file', () => {
  const digest = (seed: number): string => {
    const model = trainPipeline(train.table, train.labels, 'binary', 'random_forest', SMALL, seed).model;
    return createHash('sha256')
      .update(exportOnnx(model, { modelName: 'm', producerVersion: 'test' }).bytes)
      .digest('hex');
  };
  assert.equal(digest(3), digest(3));
  assert.notEqual(digest(4), digest(3));
});

test('a parity check reports a model that disagrees with the runtime', () => {
  const report = compareOutputs('binary', [0.5, 0.25], Float32Array.from([0.5, 0.26]));
  assert.deepEqual(report.firstMismatch, { row: 1, expected: 0.25, actual: Math.fround(0.26) });
});

test('regression parity is relative to the largest expected value', () => {
  assert.equal(compareOutputs('regression', [3000, 1], Float32Array.from([3000.01, 1.01])).firstMismatch, null);
  assert.notEqual(compareOutputs('regression', [3000, 1], Float32Array.from([3000, 1.1])).firstMismatch, null);
});
