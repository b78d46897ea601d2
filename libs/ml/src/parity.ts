import type { RawTable } from './data';
import type { Task } from './ensemble';
import { NUMERIC_INPUT } from './onnx/export';

export type OnnxFeed =
  | { readonly type: 'float32'; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'string'; readonly data: string[]; readonly dims: readonly number[] };

/**
 * The inputs of an exported model for raw rows: the numeric features as one float32 matrix (NaN = missing) and each
 * categorical feature as a string column ('' = missing).
 */
export function onnxFeeds(table: RawTable): Record<string, OnnxFeed> {
  const numeric = table.columns.filter((column) => column.kind === 'numeric');
  const matrix = new Float32Array(table.rows * numeric.length);
  numeric.forEach((column, c) => {
    for (let r = 0; r < table.rows; r++) matrix[r * numeric.length + c] = column.values[r] as number;
  });
  const feeds: Record<string, OnnxFeed> = {
    [NUMERIC_INPUT]: { type: 'float32', data: matrix, dims: [table.rows, numeric.length] },
  };
  for (const column of table.columns) {
    if (column.kind === 'categorical')
      feeds[column.name] = { type: 'string', data: column.values.map((value) => value ?? ''), dims: [table.rows, 1] };
  }
  return feeds;
}

export interface ParityReport {
  readonly rows: number;
  readonly maxDifference: number;
  /** The first row whose outputs differ by more than the tolerance, if any. */
  readonly firstMismatch: { readonly row: number; readonly expected: number; readonly actual: number } | null;
}

/**
 * Compares the TypeScript model's outputs with the runtime's: probabilities absolutely, regression values relative
 * to the largest expected magnitude (the runtime sums in float32, about 7 significant digits of the largest term).
 */
export function compareOutputs(
  task: Task,
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  tolerance = 1e-5,
): ParityReport {
  let maxDifference = 0;
  let firstMismatch: ParityReport['firstMismatch'] = null;
  if (expected.length !== actual.length)
    return {
      rows: expected.length,
      maxDifference: Infinity,
      firstMismatch: { row: -1, expected: expected.length, actual: actual.length },
    };
  let scale = 1;
  if (task === 'regression')
    for (let row = 0; row < expected.length; row++) scale = Math.max(scale, Math.abs(expected[row] as number));
  for (let row = 0; row < expected.length; row++) {
    const want = expected[row] as number;
    const got = actual[row] as number;
    const difference = Math.abs(want - got) / scale;
    if (!(difference <= tolerance) && firstMismatch === null) firstMismatch = { row, expected: want, actual: got };
    if (!(difference <= maxDifference)) maxDifference = Number.isNaN(difference) ? Infinity : difference;
  }
  return { rows: expected.length, maxDifference, firstMismatch };
}
