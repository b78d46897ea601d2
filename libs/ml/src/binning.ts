import type { Matrix } from './data';
import { createRng } from './random';

/** Bin of a missing value; non-missing values take bins 0..thresholds.length (at most 254). */
export const MISSING_BIN = 255;
export const MAX_BINS = 255;

/**
 * Quantile bins per feature, as LightGBM and scikit-learn's HistGradientBoosting do. Thresholds are float32 values
 * and a value goes to the first bin whose threshold it does not exceed (float32 comparison), which is exactly the
 * comparison ONNX Runtime's tree ensembles make on a float input.
 */
export interface BinMapper {
  /** Per feature, ascending upper edges of every bin but the last. */
  readonly thresholds: readonly Float64Array[];
}

/** Binned data, feature-major: bins[feature * rows + row]. */
export interface BinnedMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly bins: Uint8Array;
}

const SUBSAMPLE = 200_000;

export function fitBins(x: Matrix, maxBins: number = MAX_BINS, seed = 0): BinMapper {
  const bins = Math.max(2, Math.min(MAX_BINS, maxBins));
  const rng = createRng(seed);
  const rows: number[] = [];
  if (x.rows <= SUBSAMPLE) for (let r = 0; r < x.rows; r++) rows.push(r);
  else for (let k = 0; k < SUBSAMPLE; k++) rows.push(rng.int(x.rows));
  const thresholds: Float64Array[] = [];
  for (let c = 0; c < x.cols; c++) {
    const values: number[] = [];
    for (const r of rows) {
      const value = x.data[r * x.cols + c] as number;
      if (!Number.isNaN(value)) values.push(Math.fround(value));
    }
    values.sort((a, b) => a - b);
    const distinct: number[] = [];
    for (const value of values) if (distinct[distinct.length - 1] !== value) distinct.push(value);
    const edges: number[] = [];
    if (distinct.length <= bins) {
      for (let i = 0; i + 1 < distinct.length; i++)
        edges.push(((distinct[i] as number) + (distinct[i + 1] as number)) / 2);
    } else {
      for (let k = 1; k < bins; k++) edges.push(quantile(values, k / bins));
    }
    const rounded: number[] = [];
    for (const edge of edges) {
      const value = Math.fround(edge);
      if (rounded.length === 0 || value > (rounded[rounded.length - 1] as number)) rounded.push(value);
    }
    // The largest value must fall in the last bin, never beyond it.
    if (rounded.length > 0 && (rounded[rounded.length - 1] as number) >= (distinct[distinct.length - 1] as number))
      rounded.pop();
    thresholds.push(Float64Array.from(rounded));
  }
  return { thresholds };
}

export function binOf(thresholds: Float64Array, value: number): number {
  if (Number.isNaN(value)) return MISSING_BIN;
  const x = Math.fround(value);
  let low = 0;
  let high = thresholds.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (x <= (thresholds[middle] as number)) high = middle;
    else low = middle + 1;
  }
  return low;
}

export function binMatrix(mapper: BinMapper, x: Matrix): BinnedMatrix {
  const bins = new Uint8Array(x.rows * x.cols);
  for (let c = 0; c < x.cols; c++) {
    const thresholds = mapper.thresholds[c] as Float64Array;
    for (let r = 0; r < x.rows; r++) bins[c * x.rows + r] = binOf(thresholds, x.data[r * x.cols + c] as number);
  }
  return { rows: x.rows, cols: x.cols, bins };
}

/** Non-missing bins of a feature. */
export function binCount(mapper: BinMapper, feature: number): number {
  return (mapper.thresholds[feature]?.length ?? 0) + 1;
}

function quantile(sorted: number[], q: number): number {
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low);
}
