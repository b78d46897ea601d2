// The drift formulas and rules, with answers computed by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_DRIFT_THRESHOLDS,
  type FeatureDriftStats,
  chiSquared,
  chiSquaredCriticalValue,
  chiSquaredSurvival,
  jensenShannonDistance,
  judgeFeature,
  judgeWindow,
  kolmogorovQ,
  kolmogorovSmirnov,
  ksCriticalValue,
  normalizedWasserstein,
  psi,
} from '../src/domain';

const close = (actual: number, expected: number, tolerance = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

test('PSI of a histogram against itself is 0', () => {
  close(psi([10, 20, 30], [1, 2, 3]), 0);
});

test('PSI of 50/50 against 25/75 is 0.25 ln 2 + 0.25 ln 1.5 = 0.2747', () => {
  close(psi([50, 50], [25, 75]), 0.25 * Math.log(2) + 0.25 * Math.log(1.5));
});

test('PSI floors an empty bin at 1e-4 instead of dividing by 0', () => {
  // p = [1, 0] -> [1, 1e-4], q = [0.5, 0.5]: (1 - 0.5) ln 2 + (1e-4 - 0.5) ln(1e-4 / 0.5)
  close(psi([10, 0], [5, 5]), 0.5 * Math.log(2) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5));
});

test('Jensen-Shannon distance is 0 for equal and 1 for disjoint histograms', () => {
  close(jensenShannonDistance([3, 3], [1, 1]), 0);
  close(jensenShannonDistance([1, 0], [0, 1]), 1);
});

test('Jensen-Shannon distance of [1, 0] against [0.5, 0.5] is sqrt(1.5 log2 3 - 2)', () => {
  // m = [0.75, 0.25]; KL(p||m) = log2(4/3); KL(q||m) = 0.5 log2(2/3) + 0.5 log2 2; JS = half their sum
  const expected = Math.sqrt(0.5 * Math.log2(4 / 3) + 0.5 * (0.5 * Math.log2(2 / 3) + 0.5));
  close(jensenShannonDistance([2, 0], [1, 1]), expected);
});

test('KS statistic is the largest gap of the binned CDFs', () => {
  // CDFs [0.2, 0.5, 1] and [0.5, 0.6, 1]: largest gap 0.3
  close(kolmogorovSmirnov([20, 30, 50], [50, 10, 40]).statistic, 0.3);
});

test('the Kolmogorov distribution: Q(1.3581) = 0.05, Q(0.1) = 1', () => {
  close(kolmogorovQ(1.3581), 0.05, 1e-4);
  assert.equal(kolmogorovQ(0.1), 1);
  close(ksCriticalValue(0.05, 100, 100), 1.3581 * Math.sqrt(2 / 100), 1e-4);
});

test('normalized Wasserstein: all mass moved from the first to the last of two bins over [0, 2] is 1 / 2', () => {
  // centers 0.5 and 1.5; CDF gap 1 over a distance 1 = W 1; reference std 0 -> divided by the edge range 2
  close(normalizedWasserstein([0, 10], [10, 0], [0, 1, 2]), 0.5);
});

test('normalized Wasserstein divides by the reference standard deviation of the bin centers', () => {
  // edges [0, 2, 4]: centers 1 and 3, reference 50/50: std 1; live all in bin 2: CDF gap 0.5 * distance 2 = 1
  close(normalizedWasserstein([0, 8], [4, 4], [0, 2, 4]), 1);
});

test('chi-squared uses expectations smoothed by half a count per bucket', () => {
  // reference [9.5, 9.5] + 0.5 each over 20 = [0.5, 0.5]; live [30, 10]: expected [20, 20] -> 100/20 * 2 = 10
  const result = chiSquared([30, 10], [9.5, 9.5]);
  close(result.statistic, 10);
  assert.equal(result.degreesOfFreedom, 1);
});

test('chi-squared survival (Wilson-Hilferty) is 0.05 at the tabulated critical values', () => {
  close(chiSquaredSurvival(18.307, 10), 0.05, 0.002);
  close(chiSquaredSurvival(43.773, 30), 0.05, 0.001);
  close(chiSquaredCriticalValue(0.05, 10), 18.307, 0.1);
});

const stats = (feature: string, overrides: Partial<FeatureDriftStats> = {}): FeatureDriftStats => ({
  feature,
  kind: 'numeric',
  sampleSize: 1000,
  referenceSize: 1000,
  psi: 0.01,
  jsDistance: 0.02,
  ksStatistic: 0.01,
  ksPValue: 0.9,
  wassersteinNorm: 0.02,
  chiSquared: null,
  chiSquaredPValue: null,
  degreesOfFreedom: null,
  ...overrides,
});

test('a PSI of 0.3 is a critical finding, 0.15 a warning, 0.05 none', () => {
  assert.equal(judgeFeature(stats('a', { psi: 0.3 }))[0]?.severity, 'critical');
  assert.equal(judgeFeature(stats('a', { psi: 0.15 }))[0]?.severity, 'warning');
  assert.deepEqual(judgeFeature(stats('a', { psi: 0.05 })), []);
});

test('KS decides only when the policy lists it, on the p-value', () => {
  const low = stats('a', { ksStatistic: 0.2, ksPValue: 0.001 });
  assert.deepEqual(judgeFeature(low), []);
  const findings = judgeFeature(low, { ...DEFAULT_DRIFT_THRESHOLDS, numericMetrics: ['ks'] });
  assert.equal(findings[0]?.metric, 'ks');
  assert.equal(findings[0]?.pValue, 0.001);
});

test('a window with too few values is not judged', () => {
  assert.deepEqual(judgeFeature(stats('a', { psi: 5, sampleSize: 10 })), []);
});

test('the dataset drifts when half the input features drift; the score does not count as an input', () => {
  const half = judgeWindow([stats('a', { psi: 0.5 }), stats('b'), stats('$prediction', { psi: 0.5 })]);
  assert.equal(half.driftedShare, 0.5);
  assert.equal(half.datasetDrifted, true);
  const third = judgeWindow([stats('a', { psi: 0.5 }), stats('b'), stats('c')]);
  assert.equal(third.datasetDrifted, false);
});
