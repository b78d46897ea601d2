/** The learning tasks the registry knows. */
export type Task = 'binary_classification' | 'regression';

/**
 * How a model's candidates reach an alias. `floor`: the candidate's metric must be at least this good (null: no
 * floor). The improvement over the version the alias points at must be positive and at least the larger of
 * `minAbsoluteImprovement` and `minRelativeImprovement` x |baseline|. `maxSliceGap`: the largest allowed distance
 * between the overall metric and the worst slice (null: not checked). `mode`: move the alias at once, or wait for a
 * person's approval. `autoRollback`: roll the alias back when the monitor reports the version degraded.
 */
export interface PromotionPolicy {
  readonly alias: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly floor: number | null;
  readonly minAbsoluteImprovement: number;
  readonly minRelativeImprovement: number;
  readonly maxSliceGap: number | null;
  readonly mode: 'automatic' | 'approval';
  readonly autoRollback: boolean;
}

/** The policy of a model nobody gave one: automatic promotion to production on AUC (>= 0.5) or RMSE, auto-rollback on. */
export function defaultPolicy(task: Task): PromotionPolicy {
  return task === 'binary_classification'
    ? {
        alias: 'production',
        metric: 'auc',
        higherIsBetter: true,
        floor: 0.5,
        minAbsoluteImprovement: 0,
        minRelativeImprovement: 0,
        maxSliceGap: null,
        mode: 'automatic',
        autoRollback: true,
      }
    : {
        alias: 'production',
        metric: 'rmse',
        higherIsBetter: false,
        floor: null,
        minAbsoluteImprovement: 0,
        minRelativeImprovement: 0,
        maxSliceGap: null,
        mode: 'automatic',
        autoRollback: true,
      };
}

/** Metric values per slice: `{ "plan=basic": { auc: 0.8 } }`. */
export type SliceMetrics = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * Splits an event's flat metrics into overall metrics and slices: a key `<metric>__<slice>` (two underscores) is
 * the metric on one slice of the holdout, e.g. `auc__plan_basic`.
 */
export function splitSliceMetrics(metrics: Readonly<Record<string, number>>): {
  overall: Record<string, number>;
  slices: Record<string, Record<string, number>>;
} {
  const overall: Record<string, number> = {};
  const slices: Record<string, Record<string, number>> = {};
  for (const [key, value] of Object.entries(metrics)) {
    const at = key.indexOf('__');
    if (at <= 0 || at + 2 >= key.length) {
      overall[key] = value;
      continue;
    }
    const slice = key.slice(at + 2);
    (slices[slice] ??= {})[key.slice(0, at)] = value;
  }
  return { overall, slices };
}

export interface GateCandidate {
  readonly version: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly slices: SliceMetrics;
}

export interface GateBaseline {
  readonly version: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** One check of the gate, for people: what was compared and whether it held. */
export interface GateCheck {
  readonly name: 'metric_present' | 'floor' | 'improvement' | 'slice_gap';
  readonly passed: boolean;
  readonly detail: string;
}

export interface GateDecision {
  readonly passed: boolean;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly candidateValue: number | null;
  readonly baselineValue: number | null;
  readonly baselineVersion: number | null;
  /** The margin the candidate had to beat the baseline by. */
  readonly minImprovement: number;
  readonly sliceGap: number | null;
  readonly worstSlice: string | null;
  readonly checks: readonly GateCheck[];
  /** One sentence: why it passed or why it stayed out. */
  readonly reason: string;
}

/** The signed improvement of `candidate` over `baseline` in the metric's direction (positive is better). */
function improvementOf(candidate: number, baseline: number, higherIsBetter: boolean): number {
  return higherIsBetter ? candidate - baseline : baseline - candidate;
}

/** The largest distance between the overall metric and a slice, in the metric's bad direction. */
export function worstSliceGap(
  overall: number,
  slices: SliceMetrics,
  metric: string,
  higherIsBetter: boolean,
): { gap: number; slice: string } | null {
  let worst: { gap: number; slice: string } | null = null;
  for (const [slice, values] of Object.entries(slices)) {
    const value = values[metric];
    if (value === undefined) continue;
    const gap = -improvementOf(value, overall, higherIsBetter);
    if (worst === null || gap > worst.gap) worst = { gap, slice };
  }
  return worst;
}

const fmt = (value: number): string => String(Math.round(value * 1e6) / 1e6);

/**
 * The promotion gate: the candidate passes when it has the metric, clears the floor, beats the alias's current
 * version by the margin (the first version only needs the floor) and no slice lags the overall metric by more
 * than the allowed gap.
 */
export function evaluateGate(
  policy: PromotionPolicy,
  candidate: GateCandidate,
  baseline: GateBaseline | null,
): GateDecision {
  const { metric, higherIsBetter } = policy;
  const candidateValue = candidate.metrics[metric];
  const baselineValue = baseline ? (baseline.metrics[metric] ?? null) : null;
  const margin =
    baselineValue === null
      ? 0
      : Math.max(policy.minAbsoluteImprovement, policy.minRelativeImprovement * Math.abs(baselineValue));
  const base = {
    metric,
    higherIsBetter,
    baselineValue,
    baselineVersion: baseline?.version ?? null,
    minImprovement: margin,
  };
  if (candidateValue === undefined || !Number.isFinite(candidateValue)) {
    const check: GateCheck = {
      name: 'metric_present',
      passed: false,
      detail: `version ${candidate.version} has no ${metric} metric`,
    };
    return {
      ...base,
      passed: false,
      candidateValue: null,
      sliceGap: null,
      worstSlice: null,
      checks: [check],
      reason: check.detail,
    };
  }
  const checks: GateCheck[] = [];
  if (policy.floor !== null) {
    const clears = improvementOf(candidateValue, policy.floor, higherIsBetter) >= 0;
    checks.push({
      name: 'floor',
      passed: clears,
      detail: `${metric} ${fmt(candidateValue)} ${clears ? 'clears' : 'does not clear'} the floor ${fmt(policy.floor)}`,
    });
  }
  if (baseline !== null) {
    if (baselineValue === null) {
      checks.push({
        name: 'improvement',
        passed: true,
        detail: `version ${baseline.version} has no ${metric}: nothing to beat`,
      });
    } else {
      const improvement = improvementOf(candidateValue, baselineValue, higherIsBetter);
      const beats = improvement > 0 && improvement >= margin;
      checks.push({
        name: 'improvement',
        passed: beats,
        detail: `${metric} ${fmt(candidateValue)} vs ${fmt(baselineValue)} of version ${baseline.version}: improvement ${fmt(improvement)}, needed more than 0 and at least ${fmt(margin)}`,
      });
    }
  }
  const worst = worstSliceGap(candidateValue, candidate.slices, metric, higherIsBetter);
  if (policy.maxSliceGap !== null && worst !== null) {
    const within = worst.gap <= policy.maxSliceGap;
    checks.push({
      name: 'slice_gap',
      passed: within,
      detail: `slice ${worst.slice} lags the overall ${metric} by ${fmt(worst.gap)} (allowed ${fmt(policy.maxSliceGap)})`,
    });
  }
  const failed = checks.filter((check) => !check.passed);
  const passed = failed.length === 0;
  const reason = passed
    ? baseline === null
      ? `first version for alias ${policy.alias}: ${checks.map((c) => c.detail).join('; ') || `${metric} ${fmt(candidateValue)}`}`
      : `passed the gate: ${checks.map((c) => c.detail).join('; ')}`
    : `stayed out: ${failed.map((c) => c.detail).join('; ')}`;
  return {
    ...base,
    passed,
    candidateValue,
    sliceGap: worst?.gap ?? null,
    worstSlice: worst?.slice ?? null,
    checks,
    reason,
  };
}
