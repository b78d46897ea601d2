import { binMatrix, fitBins, MAX_BINS } from './binning';
import { takeMatrixRows, takeValues, type Matrix } from './data';
import { sigmoid, softplus } from './linear';
import { createRng, range } from './random';
import { seededSplit } from './split';
import { growTree, leafOf, type Tree } from './tree';

export type Task = 'binary' | 'regression';

/**
 * Gradient boosting: score = baseScore + sum of tree values (sigmoid of it for binary). Random forest: the mean of
 * the tree values (a probability for binary).
 */
export interface TreeEnsemble {
  readonly kind: 'gradient_boosting' | 'random_forest';
  readonly task: Task;
  readonly baseScore: number;
  readonly trees: readonly Tree[];
}

export interface BoostingParams {
  readonly task: Task;
  readonly iterations: number;
  readonly learningRate: number;
  readonly maxDepth: number;
  readonly maxLeaves: number;
  readonly minSamplesLeaf: number;
  readonly l2: number;
  readonly maxBins: number;
  readonly earlyStopping: boolean;
  readonly validationFraction: number;
  /** Iterations without an improvement of the validation loss by more than `tolerance` before stopping. */
  readonly patience: number;
  readonly tolerance: number;
  readonly seed: number;
}

export const DEFAULT_BOOSTING: Omit<BoostingParams, 'task'> = {
  iterations: 100,
  learningRate: 0.1,
  maxDepth: 8,
  maxLeaves: 31,
  minSamplesLeaf: 20,
  l2: 0,
  maxBins: MAX_BINS,
  earlyStopping: true,
  validationFraction: 0.1,
  patience: 10,
  tolerance: 1e-7,
  seed: 0,
};

export interface BoostingStep {
  readonly iteration: number;
  readonly trainLoss: number;
  readonly validationLoss: number | null;
}

export interface Fitted<M> {
  readonly model: M;
  /** The loss curve, one step per tree (validation loss when early stopping holds rows out). */
  readonly history: readonly BoostingStep[];
}

export type Progress = (done: number, total: number) => void;

export function fitGradientBoosting(
  x: Matrix,
  y: Float64Array,
  params: BoostingParams,
  onProgress?: Progress,
): Fitted<TreeEnsemble> {
  const split = params.earlyStopping
    ? seededSplit(x.rows, params.validationFraction, params.seed, params.task === 'binary' ? y : undefined)
    : { train: range(x.rows), test: new Uint32Array(0) };
  const trainX = takeMatrixRows(x, split.train);
  const trainY = takeValues(y, split.train);
  const validX = takeMatrixRows(x, split.test);
  const validY = takeValues(y, split.test);
  const mapper = fitBins(trainX, params.maxBins, params.seed);
  const binned = binMatrix(mapper, trainX);
  const baseScore = initialScore(params.task, trainY);
  const trainScores = new Float64Array(trainX.rows).fill(baseScore);
  const validScores = new Float64Array(validX.rows).fill(baseScore);
  const gradients = new Float64Array(trainX.rows);
  const hessians = new Float64Array(trainX.rows);
  const rows = range(trainX.rows);
  const rng = createRng(params.seed ^ 0x5bd1e995);
  const treeParams = {
    maxDepth: params.maxDepth,
    maxLeaves: params.maxLeaves,
    minSamplesLeaf: params.minSamplesLeaf,
    l2: params.l2,
    minGain: 1e-12,
    featureFraction: 1,
    shrinkage: params.learningRate,
  };
  const trees: Tree[] = [];
  const history: BoostingStep[] = [];
  let bestLoss = Infinity;
  let bestTrees = 0;
  for (let iteration = 0; iteration < params.iterations; iteration++) {
    for (let r = 0; r < trainX.rows; r++) {
      const score = trainScores[r] as number;
      const target = trainY[r] as number;
      if (params.task === 'binary') {
        const p = sigmoid(score);
        gradients[r] = p - target;
        hessians[r] = p * (1 - p);
      } else {
        gradients[r] = score - target;
        hessians[r] = 1;
      }
    }
    const tree = growTree(binned, mapper, gradients, hessians, rows, treeParams, rng);
    trees.push(tree);
    addTree(trainScores, tree, trainX);
    addTree(validScores, tree, validX);
    const validationLoss = validX.rows > 0 ? meanLoss(params.task, validScores, validY) : null;
    history.push({ iteration: iteration + 1, trainLoss: meanLoss(params.task, trainScores, trainY), validationLoss });
    onProgress?.(iteration + 1, params.iterations);
    if (validationLoss === null) continue;
    if (validationLoss < bestLoss - params.tolerance) {
      bestLoss = validationLoss;
      bestTrees = trees.length;
    } else if (trees.length - bestTrees >= params.patience) {
      break;
    }
  }
  const kept = params.earlyStopping ? trees.slice(0, Math.max(1, bestTrees)) : trees;
  return { model: { kind: 'gradient_boosting', task: params.task, baseScore, trees: kept }, history };
}

export interface ForestParams {
  readonly task: Task;
  readonly trees: number;
  readonly maxDepth: number;
  readonly maxLeaves: number;
  readonly minSamplesLeaf: number;
  /** Share of the features tried at each split (sqrt(d)/d is scikit-learn's default for classification). */
  readonly featureFraction: number;
  readonly bootstrap: boolean;
  readonly maxBins: number;
  readonly seed: number;
}

export const DEFAULT_FOREST: Omit<ForestParams, 'task' | 'featureFraction'> = {
  trees: 100,
  maxDepth: 16,
  maxLeaves: 4096,
  minSamplesLeaf: 1,
  bootstrap: true,
  maxBins: MAX_BINS,
  seed: 0,
};

/**
 * A random forest over the same histogram tree builder: with gradient -y and hessian 1 the gain is the variance
 * (for 0/1 labels, Gini) reduction and a leaf's value is the mean label of its rows.
 */
export function fitRandomForest(
  x: Matrix,
  y: Float64Array,
  params: ForestParams,
  onProgress?: Progress,
): Fitted<TreeEnsemble> {
  const mapper = fitBins(x, params.maxBins, params.seed);
  const binned = binMatrix(mapper, x);
  const gradients = y.map((target) => -target);
  const hessians = new Float64Array(x.rows).fill(1);
  const rng = createRng(params.seed ^ 0x27d4eb2f);
  const treeParams = {
    maxDepth: params.maxDepth,
    maxLeaves: params.maxLeaves,
    minSamplesLeaf: params.minSamplesLeaf,
    l2: 0,
    minGain: 1e-12,
    featureFraction: params.featureFraction,
    shrinkage: 1,
  };
  const trees: Tree[] = [];
  const history: BoostingStep[] = [];
  const scores = new Float64Array(x.rows);
  for (let t = 0; t < params.trees; t++) {
    let rows = range(x.rows);
    if (params.bootstrap) {
      rows = new Uint32Array(x.rows);
      for (let i = 0; i < x.rows; i++) rows[i] = rng.int(x.rows);
      rows.sort();
    }
    const tree = growTree(binned, mapper, gradients, hessians, rows, treeParams, rng);
    trees.push(tree);
    addTree(scores, tree, x);
    const mean = scores.map((score) => score / (t + 1));
    history.push({ iteration: t + 1, trainLoss: meanLoss(params.task, mean, y, true), validationLoss: null });
    onProgress?.(t + 1, params.trees);
  }
  return { model: { kind: 'random_forest', task: params.task, baseScore: 0, trees }, history };
}

/** Raw scores: the boosting margin, or the forest's mean. */
export function ensembleScores(model: TreeEnsemble, x: Matrix): Float64Array {
  const scores = new Float64Array(x.rows).fill(model.baseScore);
  for (const tree of model.trees) addTree(scores, tree, x);
  if (model.kind === 'random_forest' && model.trees.length > 0)
    for (let r = 0; r < x.rows; r++) scores[r] = (scores[r] as number) / model.trees.length;
  return scores;
}

/** Probabilities of the positive class (binary) or predicted values (regression). */
export function predictEnsemble(model: TreeEnsemble, x: Matrix): Float64Array {
  const scores = ensembleScores(model, x);
  return model.kind === 'gradient_boosting' && model.task === 'binary' ? scores.map(sigmoid) : scores;
}

function addTree(scores: Float64Array, tree: Tree, x: Matrix): void {
  for (let r = 0; r < x.rows; r++)
    scores[r] = (scores[r] as number) + (tree.value[leafOf(tree, x.data, r * x.cols)] as number);
}

function initialScore(task: Task, y: Float64Array): number {
  const mean = y.reduce((sum, value) => sum + value, 0) / Math.max(1, y.length);
  if (task === 'regression') return mean;
  const p = Math.min(1 - 1e-12, Math.max(1e-12, mean));
  return Math.log(p / (1 - p));
}

/** Mean log loss of margins (binary) or of probabilities when `probabilities`; half mean squared error for regression. */
function meanLoss(task: Task, scores: Float64Array, y: Float64Array, probabilities = false): number {
  let total = 0;
  for (let r = 0; r < scores.length; r++) {
    const score = scores[r] as number;
    const target = y[r] as number;
    if (task === 'regression') total += 0.5 * (score - target) ** 2;
    else if (probabilities) {
      const p = Math.min(1 - 1e-15, Math.max(1e-15, score));
      total -= target * Math.log(p) + (1 - target) * Math.log(1 - p);
    } else total += softplus(score) - target * score;
  }
  return total / Math.max(1, scores.length);
}
