// Hyperparameter search: grid, random, and successive halving (every configuration on a small budget, the best
// share goes on to a budget `factor` times larger, the rest stop early). Pure: the caller trains and scores a
// configuration on a budget (a share of the training rows); the search only chooses what to try next.
import { createRng } from '@mlops/ml';

export type ParamValue = number | string | boolean;
export type Dimension =
  | { readonly values: readonly ParamValue[] }
  | { readonly min: number; readonly max: number; readonly scale?: 'linear' | 'log'; readonly integer?: boolean };

export type Strategy = 'grid' | 'random' | 'successive_halving';

export interface SearchSpec {
  readonly strategy?: Strategy;
  readonly space: Readonly<Record<string, Dimension>>;
  /** The metric (on the validation split) that ranks trials, e.g. roc_auc or rmse. */
  readonly metric?: string;
  readonly direction?: 'maximize' | 'minimize';
  readonly maxTrials?: number;
  readonly timeBudgetSeconds?: number;
  readonly seed?: number;
  /** Successive halving: the share of configurations kept at each rung is 1/factor; budgets grow by factor. */
  readonly halvingFactor?: number;
}

export type TrialState = 'completed' | 'pruned' | 'failed';

export interface TrialScore {
  readonly rung: number;
  /** Share of the training rows the trial was trained on. */
  readonly budget: number;
  readonly value: number;
}

export interface Trial {
  readonly index: number;
  readonly params: Record<string, ParamValue>;
  readonly state: TrialState;
  readonly scores: readonly TrialScore[];
  /** Every metric of the trial's last evaluation. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly error?: string;
  readonly durationMs: number;
}

export interface SearchOutcome {
  readonly strategy: Strategy;
  readonly metric: string;
  readonly direction: 'maximize' | 'minimize';
  readonly trials: readonly Trial[];
  readonly bestTrial: number;
  /** True when the time budget stopped the search before it tried everything it planned. */
  readonly stoppedByTime: boolean;
}

/** Scores a configuration trained on a share of the training rows: every metric, or why it could not train. */
export type Evaluate = (
  params: Record<string, ParamValue>,
  budget: number,
) => { ok: true; metrics: Record<string, number> } | { ok: false; error: string };

export const DEFAULT_MAX_TRIALS = 10;
export const MAX_TRIALS = 200;
const LOWER_IS_BETTER = new Set(['log_loss', 'logloss', 'rmse', 'mae']);

export function directionOf(metric: string, requested?: 'maximize' | 'minimize'): 'maximize' | 'minimize' {
  return requested ?? (LOWER_IS_BETTER.has(metric) ? 'minimize' : 'maximize');
}

/** Every point of the grid in order (the last dimension varies fastest); only `values` dimensions make a grid. */
export function gridOf(space: SearchSpec['space']): Array<Record<string, ParamValue>> | string {
  let points: Array<Record<string, ParamValue>> = [{}];
  for (const [name, dimension] of Object.entries(space)) {
    if (!('values' in dimension)) return `grid search needs a list of values for ${name}, not a range`;
    points = points.flatMap((point) => dimension.values.map((value) => ({ ...point, [name]: value })));
  }
  return points;
}

/** `count` configurations drawn with a seeded generator: a value of each list, a point of each range. */
export function sampleOf(space: SearchSpec['space'], count: number, seed: number): Array<Record<string, ParamValue>> {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const point: Record<string, ParamValue> = {};
    for (const [name, dimension] of Object.entries(space)) {
      if ('values' in dimension) {
        point[name] = dimension.values[rng.int(dimension.values.length)] as ParamValue;
        continue;
      }
      const u = rng.next();
      if (dimension.integer) {
        point[name] =
          dimension.scale === 'log'
            ? Math.round(Math.exp(Math.log(dimension.min) + u * (Math.log(dimension.max) - Math.log(dimension.min))))
            : Math.min(
                dimension.max,
                Math.ceil(dimension.min) + Math.floor(u * (Math.floor(dimension.max) - Math.ceil(dimension.min) + 1)),
              );
        continue;
      }
      const value =
        dimension.scale === 'log'
          ? Math.exp(Math.log(dimension.min) + u * (Math.log(dimension.max) - Math.log(dimension.min)))
          : dimension.min + u * (dimension.max - dimension.min);
      point[name] = Number(value.toPrecision(6));
    }
    return point;
  });
}

/** What is wrong with a search spec, if anything (checked before any training). */
export function specProblem(spec: SearchSpec): string | undefined {
  if (Object.keys(spec.space).length === 0) return 'search.space names no parameter';
  for (const [name, dimension] of Object.entries(spec.space)) {
    if ('values' in dimension) {
      if (dimension.values.length === 0) return `search.space.${name}.values is empty`;
    } else if (!(dimension.min <= dimension.max)) return `search.space.${name}: min must not exceed max`;
    else if (dimension.scale === 'log' && dimension.min <= 0) return `search.space.${name}: a log scale needs min > 0`;
  }
  if (spec.strategy === 'grid') {
    const grid = gridOf(spec.space);
    if (typeof grid === 'string') return grid;
  }
  return undefined;
}

interface Running {
  index: number;
  params: Record<string, ParamValue>;
  scores: TrialScore[];
  metrics: Record<string, number>;
  state: TrialState | 'running';
  error?: string;
  durationMs: number;
}

/**
 * Runs the search: grid (the grid in order, at most maxTrials), random (maxTrials samples), or successive halving
 * (maxTrials samples, or the grid, on growing budgets). Stops starting trials once the time budget is spent.
 */
export function runSearch(
  spec: SearchSpec,
  defaultMetric: string,
  evaluate: Evaluate,
  now: () => number = Date.now,
  onTrial?: (done: number, planned: number) => void,
): SearchOutcome {
  const strategy = spec.strategy ?? 'random';
  const metric = spec.metric ?? defaultMetric;
  const direction = directionOf(metric, spec.direction);
  const maxTrials = Math.max(1, Math.min(MAX_TRIALS, spec.maxTrials ?? DEFAULT_MAX_TRIALS));
  const seed = spec.seed ?? 0;
  const grid = gridOf(spec.space);
  const configurations =
    strategy === 'random' || typeof grid === 'string'
      ? sampleOf(spec.space, maxTrials, seed)
      : grid.slice(0, maxTrials);
  const deadline = spec.timeBudgetSeconds === undefined ? Infinity : now() + spec.timeBudgetSeconds * 1000;
  const better = (a: number, b: number): boolean => (direction === 'maximize' ? a > b : a < b);

  const trials: Running[] = configurations.map((params, index) => ({
    index,
    params,
    scores: [],
    metrics: {},
    state: 'running',
    durationMs: 0,
  }));
  const factor = Math.max(2, spec.halvingFactor ?? 3);
  const rungs =
    strategy === 'successive_halving' ? 1 + Math.floor(Math.log(trials.length) / Math.log(factor) + 1e-9) : 1;
  const planned = strategy === 'successive_halving' ? plannedEvaluations(trials.length, factor, rungs) : trials.length;
  let stoppedByTime = false;
  let done = 0;
  let survivors = trials;
  for (let rung = 0; rung < rungs && survivors.length > 0; rung++) {
    const budget = Math.pow(factor, rung - (rungs - 1));
    for (const trial of survivors) {
      // The first evaluation always runs, so a search always has a model to offer.
      if (done > 0 && now() >= deadline) {
        stoppedByTime = true;
        break;
      }
      const started = now();
      const scored = evaluate(trial.params, budget);
      trial.durationMs += now() - started;
      done += 1;
      onTrial?.(done, planned);
      const value = scored.ok ? scored.metrics[metric] : undefined;
      if (!scored.ok || value === undefined || !Number.isFinite(value)) {
        trial.state = 'failed';
        trial.error = scored.ok ? `the metric ${metric} is not available for this task` : scored.error;
        continue;
      }
      trial.scores.push({ rung, budget, value });
      trial.metrics = scored.metrics;
    }
    const ranked = survivors
      .filter((trial) => trial.state === 'running' && trial.scores.length === rung + 1)
      .sort((a, b) => {
        const x = a.scores[rung]?.value as number;
        const y = b.scores[rung]?.value as number;
        return x === y ? a.index - b.index : better(x, y) ? -1 : 1;
      });
    if (stoppedByTime || rung === rungs - 1) {
      for (const trial of ranked) trial.state = 'completed';
      break;
    }
    const keep = Math.max(1, Math.ceil(ranked.length / factor));
    for (const trial of ranked.slice(keep)) trial.state = 'pruned';
    survivors = ranked.slice(0, keep);
  }
  // Trials never reached (time budget) are dropped; trials cut by time mid-rung keep their last completed rung.
  const reached = trials.filter((trial) => trial.scores.length > 0 || trial.state === 'failed');
  for (const trial of reached) if (trial.state === 'running') trial.state = 'pruned';
  const finalRung = Math.max(-1, ...reached.map((trial) => trial.scores.length - 1));
  const contenders = reached.filter((trial) => trial.scores.length - 1 === finalRung && finalRung >= 0);
  const best = contenders.reduce<Running | undefined>((champion, trial) => {
    if (!champion) return trial;
    const x = trial.scores[finalRung]?.value as number;
    const y = champion.scores[finalRung]?.value as number;
    return better(x, y) ? trial : champion;
  }, undefined);
  return {
    strategy,
    metric,
    direction,
    trials: reached.map(({ index, params, scores, metrics, state, error, durationMs }) => ({
      index,
      params,
      scores,
      metrics,
      state: state as TrialState,
      durationMs,
      ...(error === undefined ? {} : { error }),
    })),
    bestTrial: best?.index ?? -1,
    stoppedByTime,
  };
}

function plannedEvaluations(configurations: number, factor: number, rungs: number): number {
  let total = 0;
  let alive = configurations;
  for (let rung = 0; rung < rungs; rung++) {
    total += alive;
    alive = Math.max(1, Math.ceil(alive / factor));
  }
  return total;
}
