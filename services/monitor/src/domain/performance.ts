/** Live metrics of labelled predictions, and when one counts as degraded. */
export type LiveMetric = 'accuracy' | 'precision' | 'recall' | 'f1' | 'auc' | 'rmse' | 'mae';

export const LIVE_METRICS: readonly LiveMetric[] = ['accuracy', 'precision', 'recall', 'f1', 'auc', 'rmse', 'mae'];

/** rmse and mae are errors: lower is better. */
export const higherIsBetter = (metric: LiveMetric): boolean => metric !== 'rmse' && metric !== 'mae';

export interface WindowPerformance {
  readonly servingRole: string;
  readonly windowKey: number;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly predictions: number;
  readonly labeled: number;
  readonly metrics: Readonly<Partial<Record<LiveMetric, number | null>>>;
}

export interface Degradation {
  readonly metric: LiveMetric;
  readonly value: number;
  readonly threshold: number;
  readonly higherIsBetter: boolean;
}

/** Under the floor (over it for errors) with enough labelled predictions; null otherwise or without a floor. */
export function judgePerformance(
  window: WindowPerformance,
  policy: { metric: LiveMetric; floor: number | null; minLabeled: number },
): Degradation | null {
  if (policy.floor === null || window.labeled < Math.max(1, policy.minLabeled)) return null;
  const value = window.metrics[policy.metric];
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  const up = higherIsBetter(policy.metric);
  const crossed = up ? value < policy.floor : value > policy.floor;
  return crossed ? { metric: policy.metric, value, threshold: policy.floor, higherIsBetter: up } : null;
}
