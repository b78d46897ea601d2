// The reference sample on known data: its size, order, determinism, and that it represents the population.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RawTable } from '@mlops/ml';
import { referenceSample } from '../src/domain/reference-sample';

const rows = 10_000;
const table: RawTable = {
  rows,
  columns: [
    {
      name: 'x',
      kind: 'numeric',
      // A permutation of 0..rows-1, so row order says nothing of value order.
      values: Float64Array.from({ length: rows }, (_, i) => (i % 10 === 0 ? Number.NaN : (i * 7919) % rows)),
    },
    { name: 'plan', kind: 'categorical', values: Array.from({ length: rows }, () => 'a') },
  ],
};
const predictions = Float64Array.from({ length: rows }, (_, i) => i / rows);

test('a large table gives a sample of the set size, sorted, with missing values counted apart', () => {
  const sample = referenceSample(table, predictions, 1, 2000);
  assert.equal(sample.sampleRows, 2000);
  assert.equal(sample.populationRows, rows);
  const x = sample.numeric.x!;
  assert.equal(x.length + sample.missing.x!, 2000);
  assert.ok(sample.missing.x! > 120 && sample.missing.x! < 280, `missing ${sample.missing.x}`);
  assert.deepEqual(
    x,
    [...x].sort((a, b) => a - b),
  );
  assert.equal(sample.prediction.length, 2000);
  assert.deepEqual(Object.keys(sample.numeric), ['x'], 'categorical features are in the event already');
});

test('the sample represents the population: its median is near the population median', () => {
  const x = referenceSample(table, predictions, 2, 2000).numeric.x!;
  const median = x[Math.floor(x.length / 2)]!;
  assert.ok(Math.abs(median - rows / 2) < rows * 0.05, `median ${median}`);
});

test('the same seed gives the same sample; a table smaller than the size is taken whole', () => {
  assert.deepEqual(referenceSample(table, predictions, 5, 500), referenceSample(table, predictions, 5, 500));
  assert.notDeepEqual(referenceSample(table, predictions, 5, 500), referenceSample(table, predictions, 6, 500));
  const small = referenceSample(table, predictions, 5, 20_000);
  assert.equal(small.sampleRows, rows);
});
