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

/** The trainer's `slices` of `mlops.model.trained.v1`: per field, the holdout metrics of each of its values. */
export type TrainedSlices = Readonly<
  Record<
    string,
    { readonly values: readonly { readonly value: string; readonly metrics: Readonly<Record<string, number>> }[] }
  >
>;

/** Metric names the trainer writes once for slices and twice (two spellings) overall. */
const SLICE_METRIC_ALIASES: Readonly<Record<string, string>> = { roc_auc: 'auc', log_loss: 'logloss' };

/**
 * The trainer's slices as the gate and the model card read them: one slice per field value, named `<field>=<value>`
 * (e.g. `plan=basic`), with both spellings of a metric the overall metrics spell two ways (roc_auc and auc).
 */
export function slicesOfTrained(slices: TrainedSlices | undefined): Record<string, Record<string, number>> {
  const flat: Record<string, Record<string, number>> = {};
  for (const [field, { values }] of Object.entries(slices ?? {})) {
    for (const slice of values) {
      const metrics: Record<string, number> = { ...slice.metrics };
      for (const [name, alias] of Object.entries(SLICE_METRIC_ALIASES)) {
        const value = metrics[name];
        if (value !== undefined && metrics[alias] === undefined) metrics[alias] = value;
      }
      flat[`${field}=${slice.value}`] = metrics;
    }
  }
  return flat;
}

/**
 * What the trainer said of the alias's version when the candidate finished: its metrics on the candidate's own
 * holdout (the same rows), or why it could not score it.
 */
export interface ChampionEvaluation {
  readonly alias: string;
  readonly version: number;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly skipped?: string;
}

export interface GateCandidate {
  readonly version: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly slices: SliceMetrics;
  /** The champion scored on this candidate's holdout, when the trainer did. */
  readonly champion?: ChampionEvaluation | null;
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
  /**
   * Where the baseline value comes from: the baseline version scored on the candidate's holdout (champion/challenger
   * on the same rows), or the metrics stored with it (its own, older holdout); null without a baseline.
   */
  readonly baselineSource: 'candidate_holdout' | 'stored_metrics' | null;
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
 * The champion's value of the metric on the candidate's holdout, when the trainer scored the version the alias points
 * at now (a champion of another alias or an older version says nothing about the current one).
 */
function championOnSameHoldout(
  policy: PromotionPolicy,
  champion: ChampionEvaluation | null | undefined,
  baselineVersion: number,
): number | undefined {
  if (!champion || champion.alias !== policy.alias || champion.version !== baselineVersion) return undefined;
  const value = champion.metrics?.[policy.metric];
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/** Why the gate fell back to the stored metrics though the trainer said something of a champion. */
function championNote(
  policy: PromotionPolicy,
  champion: ChampionEvaluation | null | undefined,
  baselineVersion: number,
): string {
  if (!champion) return '';
  if (champion.alias !== policy.alias || champion.version !== baselineVersion)
    return `; the trainer scored ${champion.alias} version ${champion.version}, not the current one`;
  if (champion.skipped) return `; the trainer could not score it on the candidate's holdout: ${champion.skipped}`;
  return `; the trainer's champion metrics have no ${policy.metric}`;
}

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
  const sameHoldout = baseline ? championOnSameHoldout(policy, candidate.champion, baseline.version) : undefined;
  const baselineValue = baseline ? (sameHoldout ?? baseline.metrics[metric] ?? null) : null;
  const baselineSource: GateDecision['baselineSource'] =
    baseline === null ? null : sameHoldout !== undefined ? 'candidate_holdout' : 'stored_metrics';
  const on =
    baselineSource === 'candidate_holdout'
      ? " on the candidate's holdout"
      : baseline !== null
        ? ` (its stored metrics${championNote(policy, candidate.champion, baseline.version)})`
        : '';
  const margin =
    baselineValue === null
      ? 0
      : Math.max(policy.minAbsoluteImprovement, policy.minRelativeImprovement * Math.abs(baselineValue));
  const base = {
    metric,
    higherIsBetter,
    baselineValue,
    baselineVersion: baseline?.version ?? null,
    baselineSource,
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
        detail: `${metric} ${fmt(candidateValue)} vs ${fmt(baselineValue)} of version ${baseline.version}${on}: improvement ${fmt(improvement)}, needed more than 0 and at least ${fmt(margin)}`,
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
