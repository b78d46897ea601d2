import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { FeatureValue, FeatureVector, ServingSignature } from './signature';

/** Rows in the layout of the model's inputs: numeric features row-major (NaN = missing), strings per column ('' = missing). */
export interface EncodedRows {
  readonly rows: number;
  readonly numeric: Float32Array | Float64Array;
  readonly categorical: Readonly<Record<string, string[]>>;
  /** Per row, the features that had no value (null) and were imputed by the model. */
  readonly missing: readonly (readonly string[])[];
}

export type RowError = DomainError<'missing_feature' | 'invalid_feature'>;

/**
 * Encodes feature vectors for the model. A feature absent from a vector is an error (`missing_feature`); a null
 * value is a missing value the model imputes. Numbers and booleans (1/0) feed numeric features, strings
 * categorical ones, as the trainer read them from its snapshot.
 */
export function encodeRows(
  signature: ServingSignature,
  vectors: readonly FeatureVector[],
): Result<EncodedRows, RowError> {
  const width = signature.numericFeatures.length;
  const numeric =
    signature.numericDtype === 'float64'
      ? new Float64Array(vectors.length * width)
      : new Float32Array(vectors.length * width);
  const categorical: Record<string, string[]> = {};
  for (const name of signature.categoricalFeatures) categorical[name] = new Array<string>(vectors.length);
  const missing: string[][] = [];
  for (let row = 0; row < vectors.length; row++) {
    const vector = vectors[row] as FeatureVector;
    const rowMissing: string[] = [];
    for (let column = 0; column < width; column++) {
      const name = signature.numericFeatures[column] as string;
      const value = valueOf(vector, name);
      if (value === undefined) return err(absent(name, row, vectors.length));
      if (value === null) {
        rowMissing.push(name);
        numeric[row * width + column] = Number.NaN;
      } else if (typeof value === 'number') numeric[row * width + column] = value;
      else if (typeof value === 'boolean') numeric[row * width + column] = value ? 1 : 0;
      else return err(mistyped(name, 'a number (or boolean)', value, row, vectors.length));
    }
    for (const name of signature.categoricalFeatures) {
      const value = valueOf(vector, name);
      if (value === undefined) return err(absent(name, row, vectors.length));
      const column = categorical[name] as string[];
      if (value === null) {
        rowMissing.push(name);
        column[row] = '';
      } else if (typeof value === 'string') column[row] = value;
      else return err(mistyped(name, 'a string', value, row, vectors.length));
    }
    missing.push(rowMissing);
  }
  return ok({ rows: vectors.length, numeric, categorical, missing });
}

/** The vector the model sees for an entity: the online features, overridden by the request's, absent ones null. */
export function joinFeatures(
  signature: ServingSignature,
  online: FeatureVector | undefined,
  overrides: FeatureVector | undefined,
): Record<string, FeatureValue> {
  const vector: Record<string, FeatureValue> = {};
  for (const name of [...signature.numericFeatures, ...signature.categoricalFeatures]) {
    const override = valueOf(overrides, name);
    const value = override !== undefined ? override : valueOf(online, name);
    vector[name] = value === undefined ? null : value;
  }
  return vector;
}

function valueOf(vector: FeatureVector | undefined, name: string): FeatureValue | undefined {
  return vector !== undefined && Object.prototype.hasOwnProperty.call(vector, name) ? vector[name] : undefined;
}

function where(row: number, rows: number): string {
  return rows > 1 ? ` in row ${row}` : '';
}

function absent(name: string, row: number, rows: number): RowError {
  return domainError(
    'missing_feature',
    `feature "${name}" is missing${where(row, rows)} (send null for an unknown value)`,
    {
      feature: name,
      row,
    },
  );
}

/** The error of a feature of the wrong type, as encodeRows words it (row of rows). */
export function mistyped(name: string, expected: string, value: FeatureValue, row: number, rows: number): RowError {
  return domainError(
    'invalid_feature',
    `feature "${name}"${where(row, rows)} must be ${expected}, got ${JSON.stringify(value)}`,
    {
      feature: name,
      row,
    },
  );
}

/** Several requests' rows as one batch, in order (micro-batching); `missing` follows the rows. */
export function concatRows(parts: readonly EncodedRows[]): EncodedRows {
  if (parts.length === 1) return parts[0] as EncodedRows;
  const rows = parts.reduce((sum, part) => sum + part.rows, 0);
  const first = parts[0] as EncodedRows;
  const numeric =
    first.numeric instanceof Float64Array ? new Float64Array(sumLength(parts)) : new Float32Array(sumLength(parts));
  const categorical: Record<string, string[]> = {};
  for (const name of Object.keys(first.categorical)) categorical[name] = [];
  const missing: (readonly string[])[] = [];
  let offset = 0;
  for (const part of parts) {
    numeric.set(part.numeric, offset);
    offset += part.numeric.length;
    for (const [name, values] of Object.entries(part.categorical)) (categorical[name] as string[]).push(...values);
    missing.push(...part.missing);
  }
  return { rows, numeric, categorical, missing };
}

function sumLength(parts: readonly EncodedRows[]): number {
  return parts.reduce((sum, part) => sum + part.numeric.length, 0);
}

/** What the model answered for one row. */
export interface RowOutput {
  /** Probability of the positive class, or the regression value. */
  readonly score: number;
  /** The decided class of a binary model (score >= 0.5), or null. */
  readonly label: number | null;
  /** Per class, for classifiers; null for regression. */
  readonly probabilities: readonly number[] | null;
}
