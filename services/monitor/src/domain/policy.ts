import { DEFAULT_DRIFT_THRESHOLDS, type DriftMetric, type DriftThresholds } from './drift';
import type { LiveMetric } from './performance';

export type WindowPolicy =
  { readonly by: 'time'; readonly seconds: number } | { readonly by: 'count'; readonly size: number };

export interface PerformancePolicy {
  /** The live metric held against the floor. */
  readonly metric: LiveMetric;
  /** Lowest acceptable value (highest for rmse and mae); null: never degraded. */
  readonly floor: number | null;
  /** Windows with fewer labelled predictions are not judged. */
  readonly minLabeled: number;
  /** A label counts for a prediction when its event time is after the prediction and at most this much later. */
  readonly labelHorizonSeconds: number;
  /**
   * Tumbling time window of the live metrics, in seconds; null: the policy's window when it is by time, else the
   * service's MONITOR_WINDOW_SECONDS (labels arrive over time, so live metrics are always judged by time).
   */
  readonly windowSeconds?: number | null;
  /** A string field of the label records holding the prediction's request id: joined by it when present; null: off. */
  readonly labelRequestIdField: string | null;
}

export interface TrainingPolicy {
  /** Consecutive drifted windows (dataset rule) that ask for training; 0 disables the trigger. */
  readonly driftWindows: number;
  readonly onDegradation: boolean;
  /** Train again at least this often; null: no schedule. */
  readonly scheduleSeconds: number | null;
  /** New labels (of the model's label dataset, since its last training window) that ask for training; null: off. */
  readonly minNewLabels: number | null;
  /** No request within this long after the last one. */
  readonly cooldownSeconds: number;
  /**
   * Where the requested training window starts: `first_training` (default) keeps every label since the start of the
   * model's last training window (an expanding window); `drift_start` trains on the labels since the first window of
   * the current drift streak began, the usual answer to a changed relation (concept drift), falling back to
   * `first_training` when the trigger is not drift.
   */
  readonly since: 'first_training' | 'drift_start';
}

/** Everything the monitor does for one model; PUT /models/:model/policy overrides any part of the defaults. */
export interface MonitorPolicy {
  readonly window: WindowPolicy;
  readonly drift: DriftThresholds;
  readonly performance: PerformancePolicy;
  readonly training: TrainingPolicy;
}

export function defaultPolicy(windowSeconds: number): MonitorPolicy {
  return {
    window: { by: 'time', seconds: windowSeconds },
    drift: DEFAULT_DRIFT_THRESHOLDS,
    performance: {
      metric: 'auc',
      floor: null,
      minLabeled: 30,
      labelHorizonSeconds: 7 * 24 * 3600,
      labelRequestIdField: null,
    },
    training: {
      driftWindows: 2,
      onDegradation: true,
      scheduleSeconds: null,
      minNewLabels: null,
      cooldownSeconds: 3600,
      since: 'first_training',
    },
  };
}

export interface PolicyOverrides {
  window?: WindowPolicy;
  drift?: Partial<Omit<DriftThresholds, 'numericMetrics' | 'categoricalMetrics'>> & {
    numericMetrics?: DriftMetric[];
    categoricalMetrics?: DriftMetric[];
  };
  performance?: Partial<PerformancePolicy>;
  training?: Partial<TrainingPolicy>;
}

/** The defaults with a model's overrides laid over them, part by part. */
export function resolvePolicy(defaults: MonitorPolicy, overrides: PolicyOverrides | undefined): MonitorPolicy {
  return {
    window: overrides?.window ?? defaults.window,
    drift: { ...defaults.drift, ...overrides?.drift },
    performance: { ...defaults.performance, ...overrides?.performance },
    training: { ...defaults.training, ...overrides?.training },
  };
}

export type TrainingTrigger = 'drift' | 'degradation' | 'new_data' | 'schedule';

export interface TrainingSignals {
  readonly now: Date;
  /** A request of ours the trainer has not answered (model.trained or training.failed of that run). */
  readonly inFlight: boolean;
  readonly lastRequestedAt: Date | null;
  /** When the model last trained (its lineage), for the schedule. */
  readonly lastTrainedAt: Date | null;
  readonly driftStreak: number;
  readonly degraded: boolean;
  readonly newLabels: number;
}

export interface TrainingDecision {
  readonly trigger: TrainingTrigger;
  readonly detail: string;
}

/**
 * Whether to ask for training now: never with a request in flight or within the cooldown (no retraining
 * storms); otherwise the first trigger that holds, in order degradation, drift, new data, schedule.
 */
export function decideTraining(policy: TrainingPolicy, signals: TrainingSignals): TrainingDecision | null {
  if (signals.inFlight) return null;
  const now = signals.now.getTime();
  if (signals.lastRequestedAt && now - signals.lastRequestedAt.getTime() < policy.cooldownSeconds * 1000) return null;
  if (policy.onDegradation && signals.degraded)
    return { trigger: 'degradation', detail: 'a live metric is under its floor' };
  if (policy.driftWindows > 0 && signals.driftStreak >= policy.driftWindows)
    return {
      trigger: 'drift',
      detail: `dataset drift in ${signals.driftStreak} consecutive windows (policy: ${policy.driftWindows})`,
    };
  if (policy.minNewLabels !== null && signals.newLabels >= policy.minNewLabels)
    return { trigger: 'new_data', detail: `${signals.newLabels} new labels (policy: ${policy.minNewLabels})` };
  if (policy.scheduleSeconds !== null) {
    const last = Math.max(signals.lastRequestedAt?.getTime() ?? 0, signals.lastTrainedAt?.getTime() ?? 0);
    if (now - last >= policy.scheduleSeconds * 1000)
      return { trigger: 'schedule', detail: `scheduled every ${policy.scheduleSeconds} s` };
  }
  return null;
}

/**
 * Where a requested training window starts (policy `training.since`): the start of the model's last training window,
 * or, for a drift trigger under `drift_start`, the start of the first window of the drift streak.
 */
export function trainingWindowStart(
  policy: Pick<TrainingPolicy, 'since'>,
  trigger: TrainingTrigger,
  lineageStart: string,
  state: { readonly drift_started_at: Date | null },
): string {
  if (policy.since === 'drift_start' && trigger === 'drift' && state.drift_started_at)
    return new Date(state.drift_started_at).toISOString();
  return lineageStart;
}
