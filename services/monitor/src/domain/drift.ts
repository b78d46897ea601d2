/**
 * Drift statistics of a live histogram against a reference histogram, and the rules that call a feature (and a
 * whole window) drifted. ClickHouse computes the same formulas in SQL over the stored predictions
 * (infrastructure/drift-sql.ts); this module is their reference, used by the tests, and the judge of the results.
 */

/** Floor of a share in PSI: an empty bin would give log(0). Same value as the SQL. */
export const SHARE_FLOOR = 1e-4;

export type DriftMetric = 'psi' | 'jensen_shannon' | 'ks' | 'wasserstein' | 'chi_squared';

export interface DriftThresholds {
  /** PSI tiers: >= warning is a moderate shift, >= critical a major one. */
  readonly psiWarning: number;
  readonly psiCritical: number;
  /** Jensen-Shannon distance (base 2, in [0, 1]). */
  readonly jensenShannon: number;
  /** Wasserstein-1 distance divided by the reference standard deviation. */
  readonly wasserstein: number;
  /** Significance level of the KS and chi-squared tests: drift when p < pValue. */
  readonly pValue: number;
  /** Share of input features that must drift for the whole window (the dataset) to count as drifted. */
  readonly datasetDriftShare: number;
  /** The metrics whose crossing makes a feature drifted; the others are computed and reported only. */
  readonly numericMetrics: readonly DriftMetric[];
  readonly categoricalMetrics: readonly DriftMetric[];
  /** Windows with fewer live values are not judged. */
  readonly minSampleSize: number;
}

/** Defaults users of drift tools know (Evidently, NannyML): PSI 0.1 / 0.25, JS 0.1, normalized Wasserstein 0.1, p 0.05. */
export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = {
  psiWarning: 0.1,
  psiCritical: 0.25,
  jensenShannon: 0.1,
  wasserstein: 0.1,
  pValue: 0.05,
  datasetDriftShare: 0.5,
  // KS and chi-squared reject any difference on large samples; they decide only when a policy lists them.
  numericMetrics: ['psi', 'jensen_shannon', 'wasserstein'],
  categoricalMetrics: ['psi', 'jensen_shannon'],
  minSampleSize: 30,
};

/** The statistics of one feature in one window, as the SQL returns them (null where they do not apply). */
export interface FeatureDriftStats {
  readonly feature: string;
  readonly kind: 'numeric' | 'categorical';
  readonly sampleSize: number;
  readonly referenceSize: number;
  readonly psi: number;
  readonly jsDistance: number;
  readonly ksStatistic: number | null;
  readonly ksPValue: number | null;
  readonly wassersteinNorm: number | null;
  readonly chiSquared: number | null;
  readonly chiSquaredPValue: number | null;
  /** Categorical: buckets - 1 (the reference categories plus one for unseen ones). */
  readonly degreesOfFreedom: number | null;
}

const shares = (counts: readonly number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
};
const cumulative = (values: readonly number[]): number[] => {
  let sum = 0;
  return values.map((v) => (sum += v));
};

/** PSI = sum over bins of (p - q) ln(p / q), p live share, q reference share, both floored at SHARE_FLOOR. */
export function psi(live: readonly number[], reference: readonly number[]): number {
  const p = shares(live);
  const q = shares(reference);
  return p.reduce((sum, a, i) => {
    const x = Math.max(a, SHARE_FLOOR);
    const y = Math.max(q[i] ?? 0, SHARE_FLOOR);
    return sum + (x - y) * Math.log(x / y);
  }, 0);
}

/** Jensen-Shannon distance: sqrt of the JS divergence in bits, so in [0, 1]. */
export function jensenShannonDistance(live: readonly number[], reference: readonly number[]): number {
  const p = shares(live);
  const q = shares(reference);
  let divergence = 0;
  p.forEach((a, i) => {
    const b = q[i] ?? 0;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  });
  return Math.sqrt(Math.max(0, divergence));
}

/** Two-sample KS statistic on the binned CDFs, and its asymptotic p-value (Numerical Recipes' probks). */
export function kolmogorovSmirnov(
  live: readonly number[],
  reference: readonly number[],
): { statistic: number; pValue: number } {
  const fp = cumulative(shares(live));
  const fq = cumulative(shares(reference));
  const statistic = Math.max(...fp.map((a, i) => Math.abs(a - (fq[i] ?? 0))));
  const n = live.reduce((a, b) => a + b, 0);
  const m = reference.reduce((a, b) => a + b, 0);
  const ne = (n * m) / (n + m);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * statistic;
  return { statistic, pValue: kolmogorovQ(lambda) };
}

/** Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2), 1 for lambda < 0.2 (where the series is 1 to 1e-9). */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) sum += (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Wasserstein-1 distance between the binned distributions with each bin's mass at its center:
 * sum_i |F_p(i) - F_q(i)| (c_{i+1} - c_i), divided by the reference standard deviation (bin centers, reference
 * shares); by the edge range when that deviation is 0.
 */
export function normalizedWasserstein(
  live: readonly number[],
  reference: readonly number[],
  edges: readonly number[],
): number {
  const centers = live.map((_, i) => ((edges[i] ?? 0) + (edges[i + 1] ?? 0)) / 2);
  const fp = cumulative(shares(live));
  const fq = cumulative(shares(reference));
  let distance = 0;
  for (let i = 0; i < centers.length - 1; i++)
    distance += Math.abs((fp[i] ?? 0) - (fq[i] ?? 0)) * ((centers[i + 1] ?? 0) - (centers[i] ?? 0));
  const q = shares(reference);
  const mean = centers.reduce((s, c, i) => s + c * (q[i] ?? 0), 0);
  const std = Math.sqrt(centers.reduce((s, c, i) => s + (q[i] ?? 0) * (c - mean) ** 2, 0));
  if (std > 0) return distance / std;
  const range = (edges[edges.length - 1] ?? 0) - (edges[0] ?? 0);
  return range > 0 ? distance / range : 0;
}

/**
 * Pearson's chi-squared of the live counts against expectations n * q', q' the reference shares smoothed by
 * half a count per bucket ((r + 0.5) / (R + 0.5 k)), so a category the reference never saw has an expectation;
 * p-value by the Wilson-Hilferty approximation of the chi-squared distribution with k - 1 degrees of freedom.
 */
export function chiSquared(
  live: readonly number[],
  reference: readonly number[],
): { statistic: number; pValue: number; degreesOfFreedom: number } {
  const n = live.reduce((a, b) => a + b, 0);
  const m = reference.reduce((a, b) => a + b, 0);
  const k = live.length;
  let statistic = 0;
  live.forEach((o, i) => {
    const expected = (n * ((reference[i] ?? 0) + 0.5)) / (m + 0.5 * k);
    statistic += (o - expected) ** 2 / expected;
  });
  const df = k - 1;
  return { statistic, pValue: df < 1 ? 1 : chiSquaredSurvival(statistic, df), degreesOfFreedom: df };
}

/** P(X >= x) for X ~ chi-squared(df), Wilson-Hilferty: ((x/df)^(1/3) - (1 - 2/(9df))) / sqrt(2/(9df)) ~ N(0, 1). */
export function chiSquaredSurvival(x: number, df: number): number {
  const v = 2 / (9 * df);
  const z = (Math.cbrt(x / df) - (1 - v)) / Math.sqrt(v);
  return 0.5 * erfc(z / Math.SQRT2);
}

/** The chi-squared value whose survival (Wilson-Hilferty) is alpha: bisection, the survival falls as x grows. */
export function chiSquaredCriticalValue(alpha: number, df: number): number {
  let low = 0;
  let high = df + 100 * Math.sqrt(df) + 1000;
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2;
    if (chiSquaredSurvival(mid, df) > alpha) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** erfc to 1.2e-7 (Numerical Recipes' erfcc). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** One crossing of a threshold, for mlops.drift.detected.v1. */
export interface DriftFinding {
  readonly feature: string;
  readonly metric: DriftMetric;
  readonly value: number;
  readonly threshold: number;
  readonly severity: 'warning' | 'critical';
  readonly pValue?: number;
}

export interface WindowJudgement {
  /** Per feature (and $prediction): the crossings of its decision metrics; empty when it did not drift. */
  readonly findings: readonly DriftFinding[];
  readonly driftedFeatures: readonly string[];
  /** Input features judged (the score excluded). */
  readonly judgedFeatures: number;
  readonly driftedShare: number;
  readonly datasetDrifted: boolean;
}

/** The critical KS statistic at level alpha: c(alpha) sqrt((n + m) / (n m)), c(alpha) = sqrt(-ln(alpha / 2) / 2). */
export function ksCriticalValue(alpha: number, n: number, m: number): number {
  return Math.sqrt(-Math.log(alpha / 2) / 2) * Math.sqrt((n + m) / (n * m));
}

/** The crossings of one feature's decision metrics. */
export function judgeFeature(
  stats: FeatureDriftStats,
  thresholds: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS,
): DriftFinding[] {
  if (stats.sampleSize < thresholds.minSampleSize) return [];
  const metrics = stats.kind === 'numeric' ? thresholds.numericMetrics : thresholds.categoricalMetrics;
  const findings: DriftFinding[] = [];
  const feature = stats.feature;
  const over = (value: number, threshold: number): 'warning' | 'critical' =>
    value >= 2 * threshold ? 'critical' : 'warning';
  for (const metric of metrics) {
    if (metric === 'psi' && stats.psi >= thresholds.psiWarning) {
      const severity = stats.psi >= thresholds.psiCritical ? 'critical' : 'warning';
      findings.push({ feature, metric, value: stats.psi, threshold: thresholds.psiWarning, severity });
    } else if (metric === 'jensen_shannon' && stats.jsDistance >= thresholds.jensenShannon) {
      const threshold = thresholds.jensenShannon;
      findings.push({
        feature,
        metric,
        value: stats.jsDistance,
        threshold,
        severity: over(stats.jsDistance, threshold),
      });
    } else if (
      metric === 'wasserstein' &&
      stats.wassersteinNorm !== null &&
      stats.wassersteinNorm >= thresholds.wasserstein
    ) {
      const threshold = thresholds.wasserstein;
      const value = stats.wassersteinNorm;
      findings.push({ feature, metric, value, threshold, severity: over(value, threshold) });
    } else if (
      metric === 'ks' &&
      stats.ksStatistic !== null &&
      stats.ksPValue !== null &&
      stats.ksPValue < thresholds.pValue
    ) {
      const threshold = ksCriticalValue(thresholds.pValue, stats.sampleSize, stats.referenceSize);
      const severity = stats.ksPValue < thresholds.pValue / 10 ? 'critical' : 'warning';
      findings.push({ feature, metric, value: stats.ksStatistic, threshold, severity, pValue: stats.ksPValue });
    } else if (
      metric === 'chi_squared' &&
      stats.chiSquared !== null &&
      stats.chiSquaredPValue !== null &&
      stats.chiSquaredPValue < thresholds.pValue
    ) {
      const severity = stats.chiSquaredPValue < thresholds.pValue / 10 ? 'critical' : 'warning';
      findings.push({
        feature,
        metric,
        value: stats.chiSquared,
        threshold: chiSquaredCriticalValue(thresholds.pValue, stats.degreesOfFreedom ?? 1),
        severity,
        pValue: stats.chiSquaredPValue,
      });
    }
  }
  return findings;
}

/** The findings of a window and the dataset-level rule: drifted when the share of drifted input features reaches the threshold. */
export function judgeWindow(
  stats: readonly FeatureDriftStats[],
  thresholds: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS,
  predictionFeature = '$prediction',
): WindowJudgement {
  const findings = stats.flatMap((s) => judgeFeature(s, thresholds));
  const driftedFeatures = [...new Set(findings.map((f) => f.feature))];
  const inputs = stats.filter((s) => s.feature !== predictionFeature && s.sampleSize >= thresholds.minSampleSize);
  const driftedInputs = driftedFeatures.filter((f) => f !== predictionFeature).length;
  const driftedShare = inputs.length > 0 ? driftedInputs / inputs.length : 0;
  return {
    findings,
    driftedFeatures,
    judgedFeatures: inputs.length,
    driftedShare,
    datasetDrifted: inputs.length > 0 && driftedShare >= thresholds.datasetDriftShare,
  };
}
