import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  binMatrix,
  classificationMetrics,
  createRng,
  DEFAULT_BOOSTING,
  DEFAULT_FOREST,
  fitBins,
  fitGradientBoosting,
  fitRandomForest,
  growTree,
  leafCount,
  matrixFromRows,
  MISSING_BIN,
  predictEnsemble,
  predictTree,
  range,
  regressionMetrics,
  type Matrix,
  type TreeParams,
} from '../src';

const STUMP: TreeParams = {
  maxDepth: 1,
  maxLeaves: 2,
  minSamplesLeaf: 1,
  l2: 0,
  minGain: 1e-12,
  featureFraction: 1,
  shrinkage: 1,
};

/** Grows one regression tree: with gradient -y and hessian 1 a leaf holds the mean target of its rows. */
function regressionTree(x: Matrix, y: number[], params: TreeParams = STUMP) {
  const mapper = fitBins(x);
  const gradients = Float64Array.from(y, (value) => -value);
  return growTree(
    binMatrix(mapper, x),
    mapper,
    gradients,
    new Float64Array(y.length).fill(1),
    range(y.length),
    params,
    createRng(1),
  );
}

test('the best split of a step function is between the two steps, on the informative feature', () => {
  // Feature 0 is noise, feature 1 steps from 0 to 10 between 4 and 5.
  const rows = Array.from({ length: 10 }, (_, i) => [(i * 7) % 10, i]);
  const tree = regressionTree(
    matrixFromRows(rows),
    rows.map(([, step]) => ((step as number) < 5 ? 0 : 10)),
  );
  assert.equal(tree.feature[0], 1);
  assert.equal(tree.threshold[0], 4.5);
  assert.deepEqual([tree.value[1], tree.value[2]], [0, 10]);
});

test('missing values go to the side whose targets they resemble', () => {
  const values = [1, 2, 3, 4, 5, 6, Number.NaN, Number.NaN];
  const high = regressionTree(matrixFromRows(values.map((v) => [v])), [0, 0, 0, 10, 10, 10, 10, 10]);
  assert.equal(high.missingLeft[0], 0);
  const low = regressionTree(matrixFromRows(values.map((v) => [v])), [0, 0, 0, 10, 10, 10, 0, 0]);
  assert.equal(low.missingLeft[0], 1);
  assert.deepEqual(Array.from(predictTree(low, matrixFromRows([[Number.NaN], [6]]))), [0, 10]);
});

test('a split leaving fewer rows than min samples per leaf is not taken', () => {
  const x = matrixFromRows([[1], [2], [3], [4]]);
  const tree = regressionTree(x, [10, 0, 0, 0], { ...STUMP, minSamplesLeaf: 2 });
  assert.equal(tree.threshold[0], 2.5);
});

test('max leaves bounds a leaf-wise tree', () => {
  const rows = Array.from({ length: 64 }, (_, i) => [i]);
  const tree = regressionTree(
    matrixFromRows(rows),
    rows.map(([v]) => (v as number) % 8),
    { ...STUMP, maxDepth: 10, maxLeaves: 5 },
  );
  assert.equal(leafCount(tree), 5);
});

test('binning keeps at most 255 value bins and a bin of its own for missing values', () => {
  const rows = Array.from({ length: 2000 }, (_, i) => [i % 7 === 0 ? Number.NaN : i * 0.37]);
  const mapper = fitBins(matrixFromRows(rows));
  assert.equal(mapper.thresholds[0]?.length, 254);
  const binned = binMatrix(mapper, matrixFromRows(rows));
  assert.equal(binned.bins[0], MISSING_BIN);
  assert.equal(binned.bins[1], 0);
  assert.equal(binned.bins[1999], 254);
});

/** y = 1 when x0 * x1 > 0 (XOR of signs), with missing values in x2. */
function xorData(rows: number, seed: number): { x: Matrix; y: Float64Array } {
  const rng = createRng(seed);
  const data: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < rows; i++) {
    const a = rng.next() * 2 - 1;
    const b = rng.next() * 2 - 1;
    data.push([a, b, rng.next() < 0.2 ? Number.NaN : rng.next()]);
    labels.push(a * b > 0 ? 1 : 0);
  }
  return { x: matrixFromRows(data), y: Float64Array.from(labels) };
}

test('gradient boosting learns a nonlinear relation a linear model cannot (XOR)', () => {
  const train = xorData(3000, 1);
  const holdout = xorData(1000, 2);
  const { model } = fitGradientBoosting(train.x, train.y, { ...DEFAULT_BOOSTING, task: 'binary', seed: 3 });
  const metrics = classificationMetrics(holdout.y, predictEnsemble(model, holdout.x));
  assert.ok((metrics.rocAuc ?? 0) > 0.97, `AUC ${metrics.rocAuc}`);
});

test('gradient boosting regression reaches the optimum of a piecewise-constant target', () => {
  const rows = Array.from({ length: 400 }, (_, i) => [i % 20, (i * 13) % 7]);
  const y = Float64Array.from(rows, ([a, b]) => ((a as number) < 10 ? 1 : 5) + ((b as number) < 3 ? 0 : 2));
  const { model } = fitGradientBoosting(matrixFromRows(rows), y, {
    ...DEFAULT_BOOSTING,
    task: 'regression',
    learningRate: 1,
    iterations: 5,
    earlyStopping: false,
    minSamplesLeaf: 1,
  });
  assert.ok(regressionMetrics(y, predictEnsemble(model, matrixFromRows(rows))).rmse < 1e-12);
});

test('early stopping stops a model of pure noise long before the iteration cap', () => {
  const rng = createRng(5);
  const x = matrixFromRows(Array.from({ length: 2000 }, () => [rng.next(), rng.next()]));
  const y = Float64Array.from({ length: 2000 }, () => (rng.next() < 0.5 ? 1 : 0));
  const fitted = fitGradientBoosting(x, y, { ...DEFAULT_BOOSTING, task: 'binary', iterations: 500, patience: 5 });
  assert.ok(fitted.history.length < 100, `${fitted.history.length} iterations`);
  assert.ok(fitted.model.trees.length < fitted.history.length);
});

test('a random forest learns XOR with bagging and feature subsampling', () => {
  const train = xorData(3000, 11);
  const holdout = xorData(1000, 12);
  const { model } = fitRandomForest(train.x, train.y, {
    ...DEFAULT_FOREST,
    task: 'binary',
    trees: 30,
    featureFraction: 0.67,
    minSamplesLeaf: 5,
  });
  const metrics = classificationMetrics(holdout.y, predictEnsemble(model, holdout.x));
  assert.ok((metrics.rocAuc ?? 0) > 0.97, `AUC ${metrics.rocAuc}`);
});

test('the same data, params and seed give the same trees; another seed gives another forest', () => {
  const { x, y } = xorData(500, 21);
  const params = { ...DEFAULT_FOREST, task: 'binary' as const, trees: 5, featureFraction: 0.5 };
  const first = fitRandomForest(x, y, params).model;
  const again = fitRandomForest(x, y, params).model;
  const other = fitRandomForest(x, y, { ...params, seed: 99 }).model;
  assert.deepEqual(again, first);
  assert.notDeepEqual(other, first);
  const boosted = fitGradientBoosting(x, y, { ...DEFAULT_BOOSTING, task: 'binary', seed: 4 }).model;
  assert.deepEqual(fitGradientBoosting(x, y, { ...DEFAULT_BOOSTING, task: 'binary', seed: 4 }).model, boosted);
});
