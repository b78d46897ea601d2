import type { RawTable } from './data';
import {
  DEFAULT_BOOSTING,
  DEFAULT_FOREST,
  fitGradientBoosting,
  fitRandomForest,
  predictEnsemble,
  type BoostingStep,
  type Progress,
  type Task,
  type TreeEnsemble,
} from './ensemble';
import { DEFAULT_LOGISTIC, fitLogistic, fitRidge, predictLinear, type LinearModel } from './linear';
import {
  fitPreprocessor,
  LINEAR_PREPROCESSING,
  transform,
  TREE_PREPROCESSING,
  type Preprocessor,
} from './preprocessing';

export type Algorithm = 'logistic_regression' | 'linear_regression' | 'gradient_boosting' | 'random_forest';

export const ALGORITHMS: readonly Algorithm[] = [
  'logistic_regression',
  'linear_regression',
  'gradient_boosting',
  'random_forest',
];

/** Hyperparameters by name; what an algorithm does not use is ignored, what is absent takes its default. */
export interface HyperParams {
  readonly l2?: number;
  readonly iterations?: number;
  readonly learningRate?: number;
  readonly maxDepth?: number;
  readonly maxLeaves?: number;
  readonly minSamplesLeaf?: number;
  readonly maxBins?: number;
  readonly earlyStopping?: boolean;
  readonly validationFraction?: number;
  readonly patience?: number;
  readonly trees?: number;
  readonly featureFraction?: number;
  readonly bootstrap?: boolean;
}

export type Estimator =
  | { readonly family: 'linear'; readonly model: LinearModel }
  | { readonly family: 'trees'; readonly model: TreeEnsemble };

/** Preprocessing and estimator together: what the ONNX graph holds, taking the raw feature vector. */
export interface TrainedModel {
  readonly task: Task;
  readonly algorithm: Algorithm;
  readonly preprocessor: Preprocessor;
  readonly estimator: Estimator;
}

export interface TrainedPipeline {
  readonly model: TrainedModel;
  readonly history: readonly BoostingStep[];
  /** The parameters in effect, defaults filled in. */
  readonly params: Readonly<Record<string, number | boolean>>;
}

export function algorithmFits(algorithm: Algorithm, task: Task): boolean {
  if (algorithm === 'logistic_regression') return task === 'binary';
  if (algorithm === 'linear_regression') return task === 'regression';
  return true;
}

export function trainPipeline(
  table: RawTable,
  labels: Float64Array,
  task: Task,
  algorithm: Algorithm,
  params: HyperParams,
  seed: number,
  onProgress?: Progress,
): TrainedPipeline {
  if (!algorithmFits(algorithm, task)) throw new Error(`${algorithm} does not do ${task}`);
  const linear = algorithm === 'logistic_regression' || algorithm === 'linear_regression';
  const preprocessor = fitPreprocessor(table, linear ? LINEAR_PREPROCESSING : TREE_PREPROCESSING);
  const x = transform(preprocessor, table);
  const model = (estimator: Estimator): TrainedModel => ({ task, algorithm, preprocessor, estimator });
  if (algorithm === 'logistic_regression') {
    const effective = { ...DEFAULT_LOGISTIC, ...pick(params, ['l2']) };
    const fitted = fitLogistic(x, labels, effective);
    onProgress?.(1, 1);
    return { model: model({ family: 'linear', model: fitted }), history: [], params: { l2: effective.l2 } };
  }
  if (algorithm === 'linear_regression') {
    const l2 = params.l2 ?? 1;
    const fitted = fitRidge(x, labels, l2);
    onProgress?.(1, 1);
    return { model: model({ family: 'linear', model: fitted }), history: [], params: { l2 } };
  }
  if (algorithm === 'gradient_boosting') {
    const effective = {
      ...DEFAULT_BOOSTING,
      ...pick(params, [
        'iterations',
        'learningRate',
        'maxDepth',
        'maxLeaves',
        'minSamplesLeaf',
        'l2',
        'maxBins',
        'earlyStopping',
        'validationFraction',
        'patience',
      ]),
      task,
      seed,
    };
    const fitted = fitGradientBoosting(x, labels, effective, onProgress);
    const { task: _task, ...used } = effective;
    return { model: model({ family: 'trees', model: fitted.model }), history: fitted.history, params: used };
  }
  const effective = {
    ...DEFAULT_FOREST,
    featureFraction: task === 'binary' ? Math.sqrt(x.cols) / Math.max(1, x.cols) : 1,
    ...pick(params, ['trees', 'maxDepth', 'maxLeaves', 'minSamplesLeaf', 'featureFraction', 'bootstrap', 'maxBins']),
    task,
    seed,
  };
  const fitted = fitRandomForest(x, labels, effective, onProgress);
  const { task: _task, ...used } = effective;
  return { model: model({ family: 'trees', model: fitted.model }), history: fitted.history, params: used };
}

/** Probabilities of the positive class (binary) or values (regression) for raw rows. */
export function predictModel(model: TrainedModel, table: RawTable): Float64Array {
  const x = transform(model.preprocessor, table);
  return model.estimator.family === 'linear'
    ? predictLinear(model.estimator.model, x)
    : predictEnsemble(model.estimator.model, x);
}

/** The given keys that are set (exactOptionalPropertyTypes: an absent key must not become `undefined`). */
function pick<K extends keyof HyperParams>(
  params: HyperParams,
  keys: readonly K[],
): { [P in K]?: Exclude<HyperParams[P], undefined> } {
  const out: { [P in K]?: Exclude<HyperParams[P], undefined> } = {};
  for (const key of keys) {
    const value = params[key];
    if (value !== undefined) out[key] = value as Exclude<HyperParams[K], undefined>;
  }
  return out;
}
