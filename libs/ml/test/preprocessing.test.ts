import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitPreprocessor, LINEAR_PREPROCESSING, transform, TREE_PREPROCESSING, type RawTable } from '../src';

const table: RawTable = {
  rows: 4,
  columns: [
    { name: 'age', kind: 'numeric', values: Float64Array.from([10, Number.NaN, 30, 20]) },
    { name: 'city', kind: 'categorical', values: ['b', 'a', null, 'b'] },
  ],
};

test('missing numbers are imputed with the mean and the column is standard-scaled', () => {
  const preprocessor = fitPreprocessor(table, LINEAR_PREPROCESSING);
  const matrix = transform(preprocessor, table);
  const ages = [0, 1, 2, 3].map((r) => matrix.data[r * matrix.cols] as number);
  // Imputed column [10, 20, 30, 20]: mean 20, population std sqrt(50).
  assert.deepEqual(
    ages.map((value) => Math.round(value * 1e9) / 1e9),
    [-10, 0, 10, 0].map((value) => Math.round((value / Math.sqrt(50)) * 1e9) / 1e9),
  );
});

test('categories are one-hot in code-unit order, missing and unseen values go to the unseen bucket', () => {
  const preprocessor = fitPreprocessor(table, LINEAR_PREPROCESSING);
  assert.deepEqual(preprocessor.outputNames, ['age', 'city=a', 'city=b', 'city=__unseen__']);
  const serving: RawTable = {
    rows: 2,
    columns: [
      { name: 'age', kind: 'numeric', values: Float64Array.from([20, 20]) },
      { name: 'city', kind: 'categorical', values: ['z', 'a'] },
    ],
  };
  const matrix = transform(preprocessor, serving);
  assert.deepEqual(Array.from(matrix.data.subarray(1, 4)), [0, 0, 1]);
  assert.deepEqual(Array.from(matrix.data.subarray(5, 8)), [1, 0, 0]);
  const training = transform(preprocessor, table);
  assert.deepEqual(Array.from(training.data.subarray(2 * 4 + 1, 3 * 4)), [0, 0, 1]);
});

test('tree preprocessing keeps missing numbers as NaN and does not scale', () => {
  const matrix = transform(fitPreprocessor(table, TREE_PREPROCESSING), table);
  assert.deepEqual(
    [0, 1, 2, 3].map((r) => matrix.data[r * matrix.cols]),
    [10, Number.NaN, 30, 20],
  );
});

test('a column in the wrong place is refused', () => {
  const preprocessor = fitPreprocessor(table, LINEAR_PREPROCESSING);
  const swapped: RawTable = { rows: 4, columns: [table.columns[1]!, table.columns[0]!] };
  assert.throws(() => transform(preprocessor, swapped), /must be the numeric feature "age"/);
});
