import { compareStrings } from './preprocessing';

/** counts[i] values fell in [binEdges[i], binEdges[i + 1]), the last bin closed; missing values counted apart. */
export interface NumericReference {
  readonly kind: 'numeric';
  readonly binEdges: number[];
  readonly counts: number[];
  readonly nullCount: number;
}

export interface CategoricalReference {
  readonly kind: 'categorical';
  readonly counts: Record<string, number>;
  readonly nullCount: number;
}

/** Quantile bin edges (deduplicated) and counts: the reference a drift monitor compares live values with. */
export function numericReference(values: ArrayLike<number>, bins = 10): NumericReference {
  const present: number[] = [];
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i] as number)) present.push(values[i] as number);
  const nullCount = values.length - present.length;
  if (present.length === 0) return { kind: 'numeric', binEdges: [0, 1], counts: [0], nullCount };
  present.sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 0; k <= bins; k++) {
    const edge = present[Math.min(present.length - 1, Math.round((k / bins) * (present.length - 1)))] as number;
    if (edges.length === 0 || edge > (edges[edges.length - 1] as number)) edges.push(edge);
  }
  if (edges.length === 1) edges.push((edges[0] as number) + 1);
  const counts = new Array<number>(edges.length - 1).fill(0);
  let bin = 0;
  for (const value of present) {
    while (bin < counts.length - 1 && value >= (edges[bin + 1] as number)) bin++;
    counts[bin] = (counts[bin] as number) + 1;
  }
  return { kind: 'numeric', binEdges: edges, counts, nullCount };
}

export function categoricalReference(values: readonly (string | null)[]): CategoricalReference {
  const counts = new Map<string, number>();
  let nullCount = 0;
  for (const value of values) {
    if (value === null || value === '') nullCount++;
    else counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const sorted = [...counts.entries()].sort((a, b) => compareStrings(a[0], b[0]));
  return { kind: 'categorical', counts: Object.fromEntries(sorted), nullCount };
}
