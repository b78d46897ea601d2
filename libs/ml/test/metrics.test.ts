import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrationBins, classificationMetrics, logLoss, prAuc, regressionMetrics, rocAuc } from '../src';

const close = (actual: number | null, expected: number, digits = 9): void =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 10 ** -digits, `${actual} != ${expected}`);

test('ROC AUC of a hand-computed example: 3 of 4 positive-negative pairs ordered right', () => {
  close(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
});

test('ROC AUC counts a tie between a positive and a negative as half', () => {
  close(rocAuc([0, 1], [0.5, 0.5]), 0.5);
  assert.equal(rocAuc([1, 1], [0.2, 0.3]), null);
});

test('PR AUC is average precision: (1/2)(1) + (1/2)(2/3) for the hand example', () => {
  close(prAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.5 + (0.5 * 2) / 3);
});

test('threshold metrics and the confusion matrix at 0.5', () => {
  const metrics = classificationMetrics([1, 1, 1, 0, 0], [0.9, 0.6, 0.2, 0.7, 0.1]);
  assert.deepEqual(metrics.confusion, { truePositives: 2, falsePositives: 1, trueNegatives: 1, falseNegatives: 1 });
  close(metrics.accuracy, 3 / 5);
  close(metrics.precision, 2 / 3);
  close(metrics.recall, 2 / 3);
  close(metrics.f1, 2 / 3);
  close(metrics.positiveRate, 3 / 5);
});

test('log loss is the mean negative log likelihood', () => {
  close(logLoss([1, 0], [0.8, 0.4]), -(Math.log(0.8) + Math.log(0.6)) / 2);
});

test('calibration bins count predictions and the share that came true', () => {
  const bins = calibrationBins([1, 0, 1, 1], [0.05, 0.15, 0.95, 1], 2);
  assert.deepEqual(bins[0], { lower: 0, upper: 0.5, count: 2, meanPredicted: 0.1, fractionPositive: 0.5 });
  assert.equal(bins[1]?.count, 2);
  close(bins[1]?.fractionPositive ?? null, 1);
});

test('RMSE, MAE and R2 of a hand-computed regression', () => {
  const metrics = regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
  close(metrics.rmse, Math.sqrt(0.375));
  close(metrics.mae, 0.5);
  // Total sum of squares 29.1875, residual 1.5.
  close(metrics.r2, 1 - 1.5 / 29.1875);
});
