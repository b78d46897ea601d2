import { type Result, err, ok } from '@mlops/core';
import {
  ALGORITHMS,
  type Algorithm,
  type BoostingStep,
  type CategoricalReference,
  type HyperParams,
  type ModelSignature,
  type NumericReference,
  type Progress,
  type RawTable,
  type Task,
  algorithmFits,
  categoricalReference,
  classificationMetrics,
  createRng,
  exportOnnx,
  numericReference,
  predictModel,
  range,
  regressionMetrics,
  seededSplit,
  shuffleInPlace,
  takeTableRows,
  takeValues,
  timeOrderedSplit,
  trainPipeline,
} from '@mlops/ml';
import { type SearchOutcome, type SearchSpec, runSearch, specProblem } from './hyperparameter-search';
import { type ReferenceSample, referenceSample } from './reference-sample';
import { type Slices, largestGaps, sliceMetrics } from './slices';
import { type TrainingError, type TrainingTable, trainingError } from './snapshot-table';

export type TaskName = 'binary_classification' | 'regression';
export type ParamValue = number | string | boolean;

/** What a run asks for, as `mlops.training.requested.v1` says it. */
export interface TrainingJob {
  readonly task: TaskName;
  readonly algorithm: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly holdoutFraction: number;
  readonly modelName: string;
  readonly codeVersion: string;
  /** A hyperparameter search: its best configuration (on a validation split of the training part) is the model. */
  readonly search?: SearchSpec;
  /** Fields whose values slice the holdout metrics. */
  readonly sliceBy?: readonly string[];
}

export type Reference = NumericReference | CategoricalReference;

export interface TrainingOutcome {
  readonly algorithm: Algorithm;
  readonly params: Record<string, ParamValue>;
  readonly metrics: Record<string, number>;
  readonly calibration: unknown;
  readonly history: readonly BoostingStep[];
  /** The search that chose the params, when the request asked for one. */
  readonly search: SearchOutcome | null;
  /** Holdout metrics per slice of each sliceBy field, with the largest gaps. */
  readonly slices: Slices | null;
  readonly rows: { readonly training: number; readonly holdout: number };
  readonly onnx: Uint8Array;
  readonly signature: ModelSignature;
  readonly referenceDistributions: Record<string, Reference>;
  readonly predictionDistribution: NumericReference;
  /** A sample of the training features and of the predictions, for KS and Wasserstein (stored apart). */
  readonly referenceSample: ReferenceSample;
  /** The holdout, its labels and the model's outputs on it: the runtime must give the same (parity). */
  readonly holdout: { readonly table: RawTable; readonly labels: Float64Array; readonly predictions: Float64Array };
}

export const MIN_ROWS = 10;
export const DEFAULT_ALGORITHM: Algorithm = 'gradient_boosting';

/** Request parameter names (snake_case as in the event's example, or camelCase) and the hyperparameter they set. */
const NUMERIC_PARAMS: Record<string, keyof HyperParams> = {
  l2: 'l2',
  iterations: 'iterations',
  n_estimators: 'iterations',
  learning_rate: 'learningRate',
  max_depth: 'maxDepth',
  max_leaves: 'maxLeaves',
  min_samples_leaf: 'minSamplesLeaf',
  max_bins: 'maxBins',
  validation_fraction: 'validationFraction',
  patience: 'patience',
  trees: 'trees',
  feature_fraction: 'featureFraction',
};
const BOOLEAN_PARAMS: Record<string, keyof HyperParams> = { early_stopping: 'earlyStopping', bootstrap: 'bootstrap' };

export function taskOf(name: TaskName): Task {
  return name === 'binary_classification' ? 'binary' : 'regression';
}

/** The algorithm a request names (or the default), if we have it for the task. */
export function algorithmOf(job: Pick<TrainingJob, 'algorithm' | 'task'>): Result<Algorithm, TrainingError> {
  const name = job.algorithm;
  const algorithm = ALGORITHMS.find((known) => known === name);
  if (!algorithm)
    return err(trainingError('unsupported_algorithm', `algorithm "${name}" is not one of ${ALGORITHMS.join(', ')}`));
  if (!algorithmFits(algorithm, taskOf(job.task)))
    return err(trainingError('unsupported_algorithm', `${algorithm} does not do ${job.task}`));
  return ok(algorithm);
}

interface ParsedParams {
  readonly hyper: HyperParams;
  readonly seed: number;
  readonly split: 'time' | 'stratified' | 'random';
  readonly ignored: readonly string[];
}

export function parseParams(params: Readonly<Record<string, ParamValue>>): Result<ParsedParams, TrainingError> {
  const hyper: Record<string, number | boolean> = {};
  let seed = 0;
  let split: ParsedParams['split'] = 'time';
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    const key = name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    if (key === 'seed') {
      if (typeof value !== 'number' || !Number.isInteger(value))
        return err(trainingError('invalid_params', `seed must be an integer, got ${JSON.stringify(value)}`));
      seed = value;
    } else if (key === 'split') {
      if (value !== 'time' && value !== 'stratified' && value !== 'random')
        return err(
          trainingError(
            'invalid_params',
            `split must be "time", "stratified" or "random", got ${JSON.stringify(value)}`,
          ),
        );
      split = value;
    } else if (NUMERIC_PARAMS[key]) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        return err(
          trainingError('invalid_params', `${name} must be a non-negative number, got ${JSON.stringify(value)}`),
        );
      hyper[NUMERIC_PARAMS[key]] = value;
    } else if (BOOLEAN_PARAMS[key]) {
      if (typeof value !== 'boolean')
        return err(trainingError('invalid_params', `${name} must be true or false, got ${JSON.stringify(value)}`));
      hyper[BOOLEAN_PARAMS[key]] = value;
    } else {
      ignored.push(name);
    }
  }
  return ok({ hyper: hyper as HyperParams, seed, split, ignored });
}

/**
 * Splits off a holdout (time-ordered by default: the latest rows, as `holdoutFraction` says; stratified or random
 * with a seed on request), trains, evaluates on the holdout, computes reference distributions and exports ONNX.
 */
export function runTrainingJob(
  data: TrainingTable,
  job: TrainingJob,
  onProgress?: Progress,
): Result<TrainingOutcome, TrainingError> {
  const algorithm = algorithmOf(job);
  if (!algorithm.ok) return algorithm;
  const parsed = parseParams(job.params);
  if (!parsed.ok) return parsed;
  const { hyper, seed, split } = parsed.value;
  const task = taskOf(job.task);
  if (data.table.rows < MIN_ROWS) {
    return err(
      trainingError(
        'insufficient_rows',
        `the snapshot has ${data.table.rows} labelled rows; at least ${MIN_ROWS} are needed to train and evaluate`,
        'snapshot',
        true,
      ),
    );
  }
  const sides =
    split === 'time'
      ? timeOrderedSplit(data.eventTimes, job.holdoutFraction)
      : seededSplit(
          data.table.rows,
          job.holdoutFraction,
          seed,
          split === 'stratified' && task === 'binary' ? data.labels : undefined,
        );
  const trainTable = takeTableRows(data.table, sides.train);
  const trainLabels = takeValues(data.labels, sides.train);
  const holdoutTable = takeTableRows(data.table, sides.test);
  const holdoutLabels = takeValues(data.labels, sides.test);
  if (task === 'binary' && new Set(trainLabels).size < 2) {
    return err(
      trainingError(
        'one_class',
        `the training part of the split (${trainTable.rows} rows) holds one class only: widen the window or use split "stratified"`,
      ),
    );
  }

  let searched: { outcome: SearchOutcome; hyper: HyperParams } | undefined;
  if (job.search) {
    const result = searchParams(job, task, algorithm.value, split, seed, data, sides.train, onProgress);
    if (!result.ok) return result;
    searched = result.value;
  }
  const trained = trainPipeline(
    trainTable,
    trainLabels,
    task,
    algorithm.value,
    searched?.hyper ?? hyper,
    seed,
    searched ? undefined : onProgress,
  );
  const predictions = predictModel(trained.model, holdoutTable);
  if (predictions.some((value) => !Number.isFinite(value))) {
    return err(
      trainingError(
        'non_finite_predictions',
        'the model predicts non-finite values on the holdout: scale the features or raise l2',
      ),
    );
  }
  const { metrics, calibration } = metricsOf(task, holdoutLabels, predictions);
  let slices: Slices | null = null;
  if (job.sliceBy && job.sliceBy.length > 0) {
    const sliced = sliceMetrics(task, holdoutTable, holdoutLabels, predictions, job.sliceBy);
    if ('unknownField' in sliced)
      return err(
        trainingError(
          'invalid_params',
          `sliceBy names "${sliced.unknownField}", which is not a feature of the snapshot (features: ${holdoutTable.columns.map((c) => c.name).join(', ')})`,
        ),
      );
    slices = sliced.slices;
    Object.assign(metrics, largestGaps(slices));
  }
  const exported = exportOnnx(trained.model, { modelName: job.modelName, producerVersion: job.codeVersion });
  const referenceDistributions: Record<string, Reference> = {};
  for (const column of trainTable.columns) {
    referenceDistributions[column.name] =
      column.kind === 'numeric' ? numericReference(column.values) : categoricalReference(column.values);
  }
  return ok({
    algorithm: algorithm.value,
    params: { ...trained.params, seed, split },
    metrics,
    calibration,
    history: trained.history,
    search: searched?.outcome ?? null,
    slices,
    rows: { training: trainTable.rows, holdout: holdoutTable.rows },
    onnx: exported.bytes,
    signature: exported.signature,
    referenceDistributions,
    predictionDistribution: numericReference(predictions),
    referenceSample: referenceSample(trainTable, predictions, seed),
    holdout: { table: holdoutTable, labels: holdoutLabels, predictions },
  });
}

/** The holdout metrics of a task: classification (with calibration bins) or regression. */
export function metricsOf(
  task: Task,
  labels: Float64Array,
  predictions: Float64Array,
): { metrics: Record<string, number>; calibration: unknown } {
  if (task === 'binary') {
    const m = classificationMetrics(labels, predictions);
    return {
      calibration: m.calibration,
      metrics: {
        accuracy: m.accuracy,
        precision: m.precision,
        recall: m.recall,
        f1: m.f1,
        log_loss: m.logLoss,
        logloss: m.logLoss,
        positive_rate: m.positiveRate,
        true_positives: m.confusion.truePositives,
        false_positives: m.confusion.falsePositives,
        true_negatives: m.confusion.trueNegatives,
        false_negatives: m.confusion.falseNegatives,
        ...(m.rocAuc === null ? {} : { roc_auc: m.rocAuc, auc: m.rocAuc }),
        ...(m.prAuc === null ? {} : { pr_auc: m.prAuc }),
      },
    };
  }
  const m = regressionMetrics(labels, predictions);
  return { calibration: null, metrics: { rmse: m.rmse, mae: m.mae, ...(m.r2 === null ? {} : { r2: m.r2 }) } };
}

/** Share of the training part the search holds out to rank its trials (the holdout stays unseen until the end). */
const SEARCH_VALIDATION_FRACTION = 0.2;

/**
 * Runs the request's search on the training part: trials train on a growing share of its first 80% (by time, or a
 * seeded split) and are ranked on the rest. The best configuration's params are the model's.
 */
function searchParams(
  job: TrainingJob,
  task: Task,
  algorithm: Algorithm,
  split: 'time' | 'stratified' | 'random',
  seed: number,
  data: TrainingTable,
  trainRows: ArrayLike<number>,
  onProgress?: Progress,
): Result<{ outcome: SearchOutcome; hyper: HyperParams }, TrainingError> {
  const spec = job.search as SearchSpec;
  const problem = specProblem(spec);
  if (problem) return err(trainingError('invalid_params', problem));
  const trainLabels = takeValues(data.labels, trainRows);
  const inner =
    split === 'time'
      ? timeOrderedSplit(takeValues(data.eventTimes, trainRows), SEARCH_VALIDATION_FRACTION)
      : seededSplit(trainLabels.length, SEARCH_VALIDATION_FRACTION, seed, task === 'binary' ? trainLabels : undefined);
  const trainTable = takeTableRows(data.table, trainRows);
  const fitTable = takeTableRows(trainTable, inner.train);
  const fitLabels = takeValues(trainLabels, inner.train);
  const validationTable = takeTableRows(trainTable, inner.test);
  const validationLabels = takeValues(trainLabels, inner.test);
  // Budgets are nested prefixes of one seeded order: a trial on 1/3 of the rows sees a subset of the full budget's.
  const order = shuffleInPlace(range(fitLabels.length), createRng(seed + 1));
  const outcome = runSearch(
    spec,
    task === 'binary' ? 'roc_auc' : 'rmse',
    (params, budget) => {
      const parsed = parseParams({ ...job.params, ...params });
      if (!parsed.ok) return { ok: false, error: parsed.error.message };
      const rows = budget >= 1 ? order : order.subarray(0, Math.max(2, Math.ceil(budget * order.length)));
      const labels = takeValues(fitLabels, rows);
      if (task === 'binary' && new Set(labels).size < 2) return { ok: false, error: 'the budget holds one class only' };
      try {
        const trained = trainPipeline(takeTableRows(fitTable, rows), labels, task, algorithm, parsed.value.hyper, seed);
        const predictions = predictModel(trained.model, validationTable);
        if (predictions.some((value) => !Number.isFinite(value)))
          return { ok: false, error: 'non-finite predictions on the validation split' };
        return { ok: true, metrics: metricsOf(task, validationLabels, predictions).metrics };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    },
    Date.now,
    (done, planned) => onProgress?.(done, planned + 1),
  );
  const best = outcome.trials.find((trial) => trial.index === outcome.bestTrial);
  if (!best) {
    const firstError = outcome.trials.find((trial) => trial.error)?.error ?? 'no trial ran';
    return err(trainingError('invalid_params', `every trial of the search failed (first: ${firstError})`));
  }
  const parsed = parseParams({ ...job.params, ...best.params });
  if (!parsed.ok) return parsed;
  return ok({ outcome, hyper: parsed.value.hyper });
}
