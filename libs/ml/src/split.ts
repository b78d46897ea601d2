import { createRng, range, shuffleInPlace } from './random';

export interface Split {
  readonly train: Uint32Array;
  readonly test: Uint32Array;
}

/**
 * A seeded split; stratified by label when `labels` are given (binary classification), so both sides keep the
 * class balance. Indices on each side come back in ascending order.
 */
export function seededSplit(rows: number, testFraction: number, seed: number, labels?: Float64Array): Split {
  const rng = createRng(seed);
  const groups: Uint32Array[] = labels
    ? [0, 1].map((label) => Uint32Array.from(range(rows).filter((row) => (labels[row] as number) === label)))
    : [range(rows)];
  const train: number[] = [];
  const test: number[] = [];
  for (const group of groups) {
    shuffleInPlace(group, rng);
    const testRows = Math.round(group.length * testFraction);
    group.forEach((row, i) => (i < testRows ? test : train).push(row));
  }
  const ascending = (values: number[]): Uint32Array => Uint32Array.from(values).sort();
  return { train: ascending(train), test: ascending(test) };
}

/** The last `testFraction` of the rows in the given time order form the test side (a time-ordered split). */
export function timeOrderedSplit(times: Float64Array, testFraction: number): Split {
  const order = Array.from(range(times.length)).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  const cut = times.length - Math.round(times.length * testFraction);
  return { train: Uint32Array.from(order.slice(0, cut)).sort(), test: Uint32Array.from(order.slice(cut)).sort() };
}
