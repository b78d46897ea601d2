import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitLogistic, fitRidge, matrixFromRows, predictLinear, sigmoid } from '../src';

test('ridge matches the closed form w = sum(xc yc) / (sum xc^2 + l2), b = mean(y) - w mean(x)', () => {
  // Centred x = [-1, 0, 1], y = [-2, 0, 2]: w = 4 / (2 + 2) = 1, b = 4 - 1 * 2 = 2.
  const model = fitRidge(matrixFromRows([[1], [2], [3]]), Float64Array.from([2, 4, 6]), 2);
  assert.ok(Math.abs((model.weights[0] as number) - 1) < 1e-12);
  assert.ok(Math.abs(model.intercept - 2) < 1e-12);
});

test('ridge without a penalty recovers the exact coefficients of a noiseless linear relation', () => {
  const rows: number[][] = [];
  const targets: number[] = [];
  for (let i = 0; i < 20; i++) {
    const a = (i * 7) % 11;
    const b = (i * 3) % 5;
    rows.push([a, b]);
    targets.push(2 * a - 3 * b + 1);
  }
  const model = fitRidge(matrixFromRows(rows), Float64Array.from(targets), 0);
  assert.ok(Math.abs((model.weights[0] as number) - 2) < 1e-9);
  assert.ok(Math.abs((model.weights[1] as number) + 3) < 1e-9);
  assert.ok(Math.abs(model.intercept - 1) < 1e-9);
});

test('logistic regression separates a separable set and its gradient vanishes at the optimum', () => {
  const x = matrixFromRows([[-3], [-2], [-1.5], [-1], [1], [1.5], [2], [3]]);
  const y = Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
  const model = fitLogistic(x, y, { l2: 0.1, maxIterations: 100, tolerance: 1e-12 });
  const p = predictLinear(model, x);
  p.forEach((probability, i) => assert.equal(probability >= 0.5 ? 1 : 0, y[i]));
  // Optimality of sum logloss + l2/2 w^2: sum (p - y) x + l2 w = 0 and sum (p - y) = 0.
  let gradientW = 0.1 * (model.weights[0] as number);
  let gradientB = 0;
  p.forEach((probability, i) => {
    gradientW += (probability - (y[i] as number)) * (x.data[i] as number);
    gradientB += probability - (y[i] as number);
  });
  assert.ok(Math.abs(gradientW) < 1e-8 && Math.abs(gradientB) < 1e-8, `gradient ${gradientW}, ${gradientB}`);
});

test('logistic regression on an uninformative feature predicts the base rate: intercept = logit(mean y)', () => {
  const x = matrixFromRows([[0], [0], [0], [0]]);
  const model = fitLogistic(x, Float64Array.from([1, 0, 0, 0]), { l2: 1, maxIterations: 100, tolerance: 1e-12 });
  assert.ok(Math.abs(sigmoid(model.intercept) - 0.25) < 1e-9);
  assert.ok(Math.abs(model.weights[0] as number) < 1e-12);
});
