/** Raw training data as it arrives: numeric columns (NaN = missing) and categorical columns (null = missing). */
export type FeatureKind = 'numeric' | 'categorical';

export interface FeatureSpec {
  readonly name: string;
  readonly kind: FeatureKind;
}

export type RawColumn =
  | { readonly name: string; readonly kind: 'numeric'; readonly values: Float64Array }
  | { readonly name: string; readonly kind: 'categorical'; readonly values: readonly (string | null)[] };

export interface RawTable {
  readonly rows: number;
  readonly columns: readonly RawColumn[];
}

/** A dense row-major matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function matrixFromRows(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, i) => row.forEach((value, j) => (data[i * cols + j] = value)));
  return { rows: rows.length, cols, data };
}

export function takeMatrixRows(matrix: Matrix, indices: ArrayLike<number>): Matrix {
  const data = new Float64Array(indices.length * matrix.cols);
  for (let r = 0; r < indices.length; r++) {
    const source = (indices[r] as number) * matrix.cols;
    data.set(matrix.data.subarray(source, source + matrix.cols), r * matrix.cols);
  }
  return { rows: indices.length, cols: matrix.cols, data };
}

export function takeValues(values: Float64Array, indices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(indices.length);
  for (let r = 0; r < indices.length; r++) out[r] = values[indices[r] as number] as number;
  return out;
}

export function takeTableRows(table: RawTable, indices: ArrayLike<number>): RawTable {
  const columns = table.columns.map((column): RawColumn => {
    if (column.kind === 'numeric') return { ...column, values: takeValues(column.values, indices) };
    const values: (string | null)[] = [];
    for (let r = 0; r < indices.length; r++) values.push(column.values[indices[r] as number] ?? null);
    return { ...column, values };
  });
  return { rows: indices.length, columns };
}

export function featureSpecs(table: RawTable): FeatureSpec[] {
  return table.columns.map((column) => ({ name: column.name, kind: column.kind }));
}
