// Slices on a holdout with known answers: per-slice metrics, the largest gaps, numeric bins, missing values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RawTable } from '@mlops/ml';
import { MISSING_SLICE, largestGaps, sliceMetrics } from '../src/domain/slices';

// Plan a: every row predicted positive (two positives, both found); plan b: every row negative (one positive missed).
const table: RawTable = {
  rows: 6,
  columns: [
    { name: 'plan', kind: 'categorical', values: ['a', 'a', 'a', 'b', 'b', null] },
    { name: 'age', kind: 'numeric', values: Float64Array.from([20, 30, 20, 30, 20, Number.NaN]) },
  ],
};
const labels = Float64Array.from([1, 1, 0, 1, 0, 0]);
const predictions = Float64Array.from([0.9, 0.8, 0.7, 0.2, 0.1, 0.4]);

test('each value of a field is a slice with its own metrics; a missing value is its own slice', () => {
  const result = sliceMetrics('binary', table, labels, predictions, ['plan']);
  assert.ok('slices' in result);
  const plan = result.slices.plan!;
  assert.deepEqual(
    plan.values.map((s) => [s.value, s.rows]),
    [
      ['a', 3],
      ['b', 2],
      [MISSING_SLICE, 1],
    ],
  );
  const a = plan.values[0]!.metrics;
  assert.equal(a.positive_rate, 1);
  assert.equal(a.recall, 1);
  assert.equal(a.label_rate, 2 / 3);
  assert.equal(plan.values[1]!.metrics.recall, 0);
  assert.equal(plan.values[2]!.metrics.recall, undefined, 'no positives: recall undefined, not 0');
});

test('the largest gap names the highest and the lowest slice (positive rate, recall)', () => {
  const result = sliceMetrics('binary', table, labels, predictions, ['plan']);
  assert.ok('slices' in result);
  assert.deepEqual(result.slices.plan!.gaps.positive_rate, { gap: 1, highest: 'a', lowest: 'b' });
  assert.deepEqual(result.slices.plan!.gaps.recall, { gap: 1, highest: 'a', lowest: 'b' });
  assert.deepEqual(largestGaps(result.slices), { max_slice_gap_positive_rate: 1, max_slice_gap_recall: 1 });
});

test('a numeric field with few values slices by value; regression slices report rmse', () => {
  const result = sliceMetrics('regression', table, labels, predictions, ['age']);
  assert.ok('slices' in result);
  assert.deepEqual(result.slices.age!.values.map((s) => s.value).sort(), ['(missing)', '20', '30']);
  assert.ok(result.slices.age!.gaps.rmse!.gap > 0);
});

test('a numeric field with many values is cut into quantile bins', () => {
  const wide: RawTable = {
    rows: 100,
    columns: [{ name: 'spend', kind: 'numeric', values: Float64Array.from({ length: 100 }, (_, i) => i) }],
  };
  const result = sliceMetrics('regression', wide, new Float64Array(100), new Float64Array(100), ['spend']);
  assert.ok('slices' in result);
  assert.deepEqual(
    result.slices.spend!.values.map((s) => [s.value, s.rows]),
    [
      ['[-inf, 25)', 25],
      ['[25, 50)', 25],
      ['[50, 75)', 25],
      ['[75, inf)', 25],
    ],
  );
});

test('a field the holdout does not have is named', () => {
  assert.deepEqual(sliceMetrics('binary', table, labels, predictions, ['country']), { unknownField: 'country' });
});
