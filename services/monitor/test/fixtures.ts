// Data of the monitor tests: seeded samples, reference histograms binned like the trainer's (libs/ml reference.ts).

/** A seeded uniform generator (LCG), so every run sees the same samples. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
}

/** Normal samples by Box-Muller from a seeded generator. */
export function normals(count: number, mean: number, sd: number, seed: number): number[] {
  const next = seeded(seed);
  return Array.from(
    { length: count },
    () => mean + sd * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()),
  );
}

/** Quantile bins with the trainer's rule: edges at ranks k/bins, value >= an inner edge goes right, clamped. */
export function numericReference(
  values: readonly number[],
  bins = 10,
): { kind: 'numeric'; binEdges: number[]; counts: number[]; nullCount: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 0; k <= bins; k++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.round((k / bins) * (sorted.length - 1)))]!;
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return { kind: 'numeric', binEdges: edges, counts: binCounts(values, edges), nullCount: 0 };
}

/** Counts of values in the bins of `edges` (first bin takes what is below, last what is above). */
export function binCounts(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    let bin = 0;
    while (bin < counts.length - 1 && v >= edges[bin + 1]!) bin++;
    counts[bin]!++;
  }
  return counts;
}

/** Categorical samples with the given weights. */
export function categories(count: number, weights: Record<string, number>, seed: number): string[] {
  const next = seeded(seed);
  const entries = Object.entries(weights);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  return Array.from({ length: count }, () => {
    let r = next() * total;
    for (const [name, w] of entries) {
      if ((r -= w) < 0) return name;
    }
    return entries[entries.length - 1]![0];
  });
}

export function categoricalReference(values: readonly string[]): {
  kind: 'categorical';
  counts: Record<string, number>;
  nullCount: number;
} {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return { kind: 'categorical', counts, nullCount: 0 };
}
