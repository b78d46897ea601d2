// The large part of a model's reference distributions: a seeded uniform sample of the training rows' numeric
// features and of the predictions, sorted, so a monitor can compute KS and Wasserstein distances without the
// training set. It goes to the artifact store; the event names it.
import { type RawTable, createRng } from '@mlops/ml';

export const REFERENCE_SAMPLE_SIZE = 2000;
export const REFERENCE_SAMPLE_VERSION = 1;

export interface ReferenceSample {
  readonly version: number;
  /** Rows the sample was drawn from, and rows drawn. */
  readonly populationRows: number;
  readonly sampleRows: number;
  readonly seed: number;
  /** Per numeric feature: its sampled values, missing ones left out, ascending. */
  readonly numeric: Record<string, number[]>;
  /** Per numeric feature: how many sampled rows had it missing. */
  readonly missing: Record<string, number>;
  /** The model's outputs on the sampled prediction rows, ascending. */
  readonly prediction: number[];
}

/** The first `size` indices of a seeded shuffle of 0..rows-1, ascending (all rows when there are fewer). */
function sampleRows(rows: number, size: number, seed: number): number[] {
  if (rows <= size) return Array.from({ length: rows }, (_, i) => i);
  const rng = createRng(seed);
  const picked: number[] = [];
  // Reservoir sampling: one pass, uniform, the same rows for the same seed.
  for (let i = 0; i < rows; i++) {
    if (i < size) picked.push(i);
    else {
      const j = rng.int(i + 1);
      if (j < size) picked[j] = i;
    }
  }
  return picked.sort((a, b) => a - b);
}

export function referenceSample(
  table: RawTable,
  predictions: ArrayLike<number>,
  seed: number,
  size = REFERENCE_SAMPLE_SIZE,
): ReferenceSample {
  const rows = sampleRows(table.rows, size, seed);
  const numeric: Record<string, number[]> = {};
  const missing: Record<string, number> = {};
  for (const column of table.columns) {
    if (column.kind !== 'numeric') continue;
    const values = rows.map((row) => column.values[row] as number);
    numeric[column.name] = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    missing[column.name] = values.length - (numeric[column.name] as number[]).length;
  }
  const predictionRows = sampleRows(predictions.length, size, seed + 1);
  const prediction = predictionRows
    .map((row) => predictions[row] as number)
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
  return {
    version: REFERENCE_SAMPLE_VERSION,
    populationRows: table.rows,
    sampleRows: rows.length,
    seed,
    numeric,
    missing,
    prediction,
  };
}
