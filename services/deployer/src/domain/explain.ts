import type { EncodedRows, RowOutput } from './rows';
import type { SaabasExplainer } from './saabas';
import type { ServingSignature } from './signature';

/** Per-feature contributions to one row's margin (log-odds of a classifier, the value of a regressor). */
export interface Explanation {
  /**
   * "missing_baseline": occlusion against a row of missing values (exact for linear models); "saabas": tree
   * ensembles, each split's change of expected value credited to its feature (baseline: the trees' expected values).
   */
  readonly method: 'missing_baseline' | 'saabas';
  /** The margin of a row whose every feature is missing (imputed by the model: training means, unseen category). */
  readonly baseline: number;
  readonly margin: number;
  /** margin(row) - margin(row with this feature missing). */
  readonly contributions: Readonly<Record<string, number>>;
  /**
   * Whether baseline + sum of contributions equals the margin (within float32 precision): exact for linear and
   * logistic models (each contribution is weight x scaled value, the SHAP value against the training means);
   * for tree ensembles features interact and the contributions are an occlusion approximation.
   */
  readonly additive: boolean;
}

const EPSILON = 1e-7;

/**
 * The rows to score to explain `rows`: per row, the row itself, then one copy per feature with that feature
 * missing; last, one row of all features missing (the baseline).
 */
export function explanationRows(signature: ServingSignature, rows: EncodedRows): EncodedRows {
  const width = signature.numericFeatures.length;
  const features = width + signature.categoricalFeatures.length;
  const per = features + 1;
  const total = rows.rows * per + 1;
  const numeric =
    rows.numeric instanceof Float64Array ? new Float64Array(total * width) : new Float32Array(total * width);
  const categorical: Record<string, string[]> = {};
  for (const name of signature.categoricalFeatures) categorical[name] = new Array<string>(total);
  for (let row = 0; row < rows.rows; row++) {
    const source = rows.numeric.subarray(row * width, (row + 1) * width);
    for (let variant = 0; variant < per; variant++) {
      const target = row * per + variant;
      numeric.set(source, target * width);
      signature.categoricalFeatures.forEach((name, c) => {
        (categorical[name] as string[])[target] =
          variant === width + c + 1 ? '' : ((rows.categorical[name]?.[row] ?? '') as string);
      });
      if (variant >= 1 && variant <= width) numeric[target * width + variant - 1] = Number.NaN;
    }
  }
  numeric.fill(Number.NaN, (total - 1) * width);
  for (const name of signature.categoricalFeatures) (categorical[name] as string[])[total - 1] = '';
  return { rows: total, numeric, categorical, missing: Array.from({ length: total }, () => []) };
}

/** Reads the explanations of `rows` rows from the outputs of `explanationRows`. */
export function explanationsOf(
  signature: ServingSignature,
  rows: number,
  outputs: readonly RowOutput[],
): Explanation[] {
  const names = [...signature.numericFeatures, ...signature.categoricalFeatures];
  const per = names.length + 1;
  const classifier = signature.probabilitiesOutput !== null;
  const margin = (output: RowOutput | undefined): number => {
    const score = output?.score ?? Number.NaN;
    if (!classifier) return score;
    const p = Math.min(1 - EPSILON, Math.max(EPSILON, score));
    return Math.log(p / (1 - p));
  };
  const baseline = margin(outputs[rows * per]);
  const explanations: Explanation[] = [];
  for (let row = 0; row < rows; row++) {
    const full = margin(outputs[row * per]);
    const contributions: Record<string, number> = {};
    let sum = 0;
    names.forEach((name, j) => {
      const value = full - margin(outputs[row * per + j + 1]);
      contributions[name] = value;
      sum += value;
    });
    // float32 scores: about 1e-6 relative on the probability, more on the log-odds near 0 and 1.
    const tolerance = 1e-3 * Math.max(1, Math.abs(full), Math.abs(baseline));
    explanations.push({
      method: 'missing_baseline',
      baseline,
      margin: full,
      contributions,
      additive: Math.abs(baseline + sum - full) <= tolerance,
    });
  }
  return explanations;
}

/** Saabas explanations of tree-ensemble rows, read from the encoded rows (no session run). */
export function saabasExplanations(
  explainer: SaabasExplainer,
  signature: ServingSignature,
  rows: EncodedRows,
): Explanation[] {
  const width = signature.numericFeatures.length;
  return Array.from({ length: rows.rows }, (_, row) => {
    const categorical: Record<string, string> = {};
    for (const name of signature.categoricalFeatures) categorical[name] = rows.categorical[name]?.[row] ?? '';
    const explained = explainer.explain({
      numeric: rows.numeric.subarray(row * width, (row + 1) * width),
      categorical,
    });
    return { method: 'saabas', ...explained, additive: true };
  });
}
