import type { Matrix, RawTable } from './data';

/**
 * Turns a raw table into the dense matrix a model trains on. Numeric columns: missing values imputed (or kept as
 * NaN for trees, which learn a side for them) and optionally standard-scaled. Categorical columns: one-hot over the
 * categories seen in training plus one "unseen" column that takes unseen and missing values.
 */
export interface PreprocessOptions {
  readonly impute: 'mean' | 'median';
  readonly scale: boolean;
  /** Keep NaN in numeric columns instead of imputing (tree models route missing values themselves). */
  readonly keepMissing: boolean;
  /** The most frequent categories kept per column; the rest fall into the unseen bucket. */
  readonly maxCategories: number;
}

export const LINEAR_PREPROCESSING: PreprocessOptions = {
  impute: 'mean',
  scale: true,
  keepMissing: false,
  maxCategories: 64,
};
export const TREE_PREPROCESSING: PreprocessOptions = {
  impute: 'mean',
  scale: false,
  keepMissing: true,
  maxCategories: 64,
};

export interface NumericStep {
  readonly kind: 'numeric';
  readonly name: string;
  /** The value a missing entry becomes (unless missing values are kept). */
  readonly fill: number;
  /** Subtracted, then divided by `scale` (0 and 1 when not scaling). */
  readonly offset: number;
  readonly scale: number;
}

export interface CategoricalStep {
  readonly kind: 'categorical';
  readonly name: string;
  /** One output column per category in this order, then one for unseen or missing values. */
  readonly categories: readonly string[];
}

export type PreprocessStep = NumericStep | CategoricalStep;

export interface Preprocessor {
  readonly options: PreprocessOptions;
  readonly steps: readonly PreprocessStep[];
  readonly outputNames: readonly string[];
}

export const UNSEEN_CATEGORY = '__unseen__';

export function fitPreprocessor(table: RawTable, options: PreprocessOptions): Preprocessor {
  const steps = table.columns.map((column): PreprocessStep => {
    if (column.kind === 'numeric') {
      const present = Array.from(column.values).filter((value) => !Number.isNaN(value));
      const mean = present.length === 0 ? 0 : present.reduce((sum, value) => sum + value, 0) / present.length;
      const fill = options.impute === 'mean' ? mean : median(present);
      if (!options.scale) return { kind: 'numeric', name: column.name, fill, offset: 0, scale: 1 };
      // Imputed entries are part of what the model sees, so the scaling is fit on the imputed column.
      const imputedMean =
        (mean * present.length + fill * (column.values.length - present.length)) / column.values.length;
      let squares = 0;
      for (const value of column.values) squares += ((Number.isNaN(value) ? fill : value) - imputedMean) ** 2;
      const std = Math.sqrt(squares / Math.max(1, column.values.length));
      return { kind: 'numeric', name: column.name, fill, offset: imputedMean, scale: std > 0 ? std : 1 };
    }
    const counts = new Map<string, number>();
    for (const value of column.values) {
      if (value === null || value === '') continue;
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    const kept = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))
      .slice(0, options.maxCategories)
      .map(([value]) => value)
      .sort(compareStrings);
    return { kind: 'categorical', name: column.name, categories: kept };
  });
  const outputNames = steps.flatMap((step) =>
    step.kind === 'numeric'
      ? [step.name]
      : [...step.categories.map((category) => `${step.name}=${category}`), `${step.name}=${UNSEEN_CATEGORY}`],
  );
  return { options, steps, outputNames };
}

export function transform(preprocessor: Preprocessor, table: RawTable): Matrix {
  const cols = preprocessor.outputNames.length;
  const data = new Float64Array(table.rows * cols);
  let offset = 0;
  preprocessor.steps.forEach((step, index) => {
    const column = table.columns[index];
    if (!column || column.name !== step.name || column.kind !== step.kind) {
      throw new Error(`column ${index} must be the ${step.kind} feature "${step.name}"`);
    }
    if (step.kind === 'numeric' && column.kind === 'numeric') {
      for (let r = 0; r < table.rows; r++) {
        const raw = column.values[r] as number;
        const value = Number.isNaN(raw) ? (preprocessor.options.keepMissing ? Number.NaN : step.fill) : raw;
        data[r * cols + offset] = (value - step.offset) / step.scale;
      }
      offset += 1;
    } else if (step.kind === 'categorical' && column.kind === 'categorical') {
      const position = new Map(step.categories.map((category, i) => [category, i]));
      for (let r = 0; r < table.rows; r++) {
        const value = column.values[r];
        const slot = value === null || value === undefined ? undefined : position.get(value);
        data[r * cols + offset + (slot ?? step.categories.length)] = 1;
      }
      offset += step.categories.length + 1;
    }
  });
  return { rows: table.rows, cols, data };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Code-unit order: the same on every machine and locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
