import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categoricalReference, numericReference } from '../src';

test('numeric reference: quantile edges, every present value counted once, missing apart', () => {
  const values = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, Number.NaN]);
  const reference = numericReference(values, 4);
  assert.deepEqual(reference.binEdges, [1, 3, 5, 6, 8]);
  assert.deepEqual(reference.counts, [2, 2, 1, 3]);
  assert.equal(reference.nullCount, 1);
});

test('a constant numeric column still has two edges', () => {
  assert.deepEqual(numericReference([5, 5, 5]), { kind: 'numeric', binEdges: [5, 6], counts: [3], nullCount: 0 });
});

test('categorical reference: value counts in code-unit order and nulls apart', () => {
  assert.deepEqual(categoricalReference(['b', 'a', null, 'b', '']), {
    kind: 'categorical',
    counts: { a: 1, b: 2 },
    nullCount: 2,
  });
});
