import type { EncodedRows, RowOutput } from './rows';
import { SaabasExplainer } from './saabas';
import type { ServingSignature } from './signature';
import { TreeEnsemble } from './tree-ensemble';
import { TreeShapExplainer } from './tree-shap';

/** Per-feature contributions to one row's output: its margin, or a forest's averaged probability. */
export interface Explanation {
  /**
   * "missing_baseline": occlusion against a row of missing values (exact for linear models); "tree_shap": exact
   * path-dependent TreeSHAP of a tree ensemble (baseline: the trees' expected values under their training covers);
   * "saabas": each split's change of expected value credited to its feature (baseline: the trees' expected values).
   */
  readonly method: 'missing_baseline' | 'tree_shap' | 'saabas';
  /**
   * What baseline, margin and contributions are in: "log_odds" (classifiers with a sigmoid: logistic, boosting),
   * "probability" (a random forest classifier, whose trees' leaves are averaged into the probability), "value".
   */
  readonly output: 'log_odds' | 'probability' | 'value';
  /** missing_baseline: the margin of a row whose every feature is missing; trees: the expected output. */
  readonly baseline: number;
  readonly margin: number;
  /** Per feature; baseline + their sum = margin when additive. */
  readonly contributions: Readonly<Record<string, number>>;
  /**
   * Whether baseline + sum of contributions equals the margin: always for trees (to 1e-9 relative) and for linear
   * and logistic models (each contribution is weight x scaled value, the SHAP value against the training means;
   * within float32 precision); for other models features interact and occlusion only approximates.
   */
  readonly additive: boolean;
}

/** The explanation method asked for a tree ensemble; TreeSHAP unless Saabas is asked. */
export type TreeExplainMethod = 'tree_shap' | 'saabas';

/** Explainers of a tree ensemble: TreeSHAP when the graph carries covers, Saabas always. */
export interface TreeExplainers {
  readonly output: 'log_odds' | 'probability' | 'value';
  readonly treeShap: TreeShapExplainer | undefined;
  readonly saabas: SaabasExplainer;
}

/** The explainers of an exported model when it is a tree ensemble (undefined for anything else). */
export function treeExplainersOf(model: Uint8Array, signature: ServingSignature): TreeExplainers | undefined {
  const ensemble = TreeEnsemble.of(model, signature.numericFeatures, signature.categoricalFeatures);
  if (!ensemble) return undefined;
  const classifier = signature.probabilitiesOutput !== null;
  return {
    output: !classifier ? 'value' : ensemble.average ? 'probability' : 'log_odds',
    treeShap: TreeShapExplainer.of(ensemble),
    saabas: new SaabasExplainer(ensemble),
  };
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
      output: classifier ? 'log_odds' : 'value',
      baseline,
      margin: full,
      contributions,
      additive: Math.abs(baseline + sum - full) <= tolerance,
    });
  }
  return explanations;
}

/**
 * Explanations of tree-ensemble rows, read from the encoded rows (no session run): TreeSHAP unless Saabas is asked
 * (or the graph has no covers); each answer names its method.
 */
export function treeExplanations(
  explainers: TreeExplainers,
  signature: ServingSignature,
  rows: EncodedRows,
  method: TreeExplainMethod = 'tree_shap',
): Explanation[] {
  const width = signature.numericFeatures.length;
  const treeShap = method === 'tree_shap' ? explainers.treeShap : undefined;
  return Array.from({ length: rows.rows }, (_, row) => {
    const categorical: Record<string, string> = {};
    for (const name of signature.categoricalFeatures) categorical[name] = rows.categorical[name]?.[row] ?? '';
    const input = { numeric: rows.numeric.subarray(row * width, (row + 1) * width), categorical };
    const explained = treeShap ? treeShap.explain(input) : explainers.saabas.explain(input);
    return {
      method: treeShap ? 'tree_shap' : 'saabas',
      output: explainers.output,
      ...explained,
      additive: true,
    };
  });
}
