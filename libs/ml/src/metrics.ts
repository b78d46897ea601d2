/** Evaluation metrics on plain arrays: labels are 0/1, scores are probabilities of the positive class. */
export interface ConfusionMatrix {
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly trueNegatives: number;
  readonly falseNegatives: number;
}

export interface CalibrationBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  readonly meanPredicted: number | null;
  readonly fractionPositive: number | null;
}

export interface ClassificationMetrics {
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly rocAuc: number | null;
  readonly prAuc: number | null;
  readonly logLoss: number;
  readonly positiveRate: number;
  readonly confusion: ConfusionMatrix;
  readonly calibration: readonly CalibrationBin[];
}

export interface RegressionMetrics {
  readonly rmse: number;
  readonly mae: number;
  readonly r2: number | null;
}

export function confusionMatrix(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold = 0.5,
): ConfusionMatrix {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const positive = (scores[i] as number) >= threshold;
    const actual = (labels[i] as number) === 1;
    if (actual && positive) tp++;
    else if (actual) fn++;
    else if (positive) fp++;
    else tn++;
  }
  return { truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn };
}

export function accuracy(c: ConfusionMatrix): number {
  const total = c.truePositives + c.falsePositives + c.trueNegatives + c.falseNegatives;
  return total === 0 ? 0 : (c.truePositives + c.trueNegatives) / total;
}

/** Precision; 0 when nothing is predicted positive (scikit-learn's zero_division=0). */
export function precision(c: ConfusionMatrix): number {
  const predicted = c.truePositives + c.falsePositives;
  return predicted === 0 ? 0 : c.truePositives / predicted;
}

export function recall(c: ConfusionMatrix): number {
  const actual = c.truePositives + c.falseNegatives;
  return actual === 0 ? 0 : c.truePositives / actual;
}

export function f1(c: ConfusionMatrix): number {
  const p = precision(c);
  const r = recall(c);
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

/** ROC AUC by the rank statistic, ties counted as half; null when one class is absent. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1] as number] === scores[order[start] as number]) end++;
    const averageRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if ((labels[order[k] as number] as number) === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Area under the precision-recall curve as average precision (scikit-learn's definition); null without positives. */
export function prAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number),
  );
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if ((labels[i] as number) === 1) positives++;
  if (positives === 0) return null;
  let truePositives = 0;
  let seen = 0;
  let previousRecall = 0;
  let area = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1] as number] === scores[order[start] as number]) end++;
    for (let k = start; k <= end; k++) if ((labels[order[k] as number] as number) === 1) truePositives++;
    seen = end + 1;
    const currentRecall = truePositives / positives;
    area += (currentRecall - previousRecall) * (truePositives / seen);
    previousRecall = currentRecall;
    start = end + 1;
  }
  return area;
}

/** Mean negative log likelihood, probabilities clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, scores[i] as number));
    total -= (labels[i] as number) === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return labels.length === 0 ? 0 : total / labels.length;
}

/** Equal-width bins over [0, 1]: how often what was predicted with probability p happened. */
export function calibrationBins(labels: ArrayLike<number>, scores: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const count = new Array<number>(bins).fill(0);
  const predicted = new Array<number>(bins).fill(0);
  const positive = new Array<number>(bins).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const score = scores[i] as number;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(score * bins)));
    count[bin] = (count[bin] as number) + 1;
    predicted[bin] = (predicted[bin] as number) + score;
    positive[bin] = (positive[bin] as number) + ((labels[i] as number) === 1 ? 1 : 0);
  }
  return count.map((n, bin) => ({
    lower: bin / bins,
    upper: (bin + 1) / bins,
    count: n,
    meanPredicted: n === 0 ? null : (predicted[bin] as number) / n,
    fractionPositive: n === 0 ? null : (positive[bin] as number) / n,
  }));
}

export function classificationMetrics(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold = 0.5,
): ClassificationMetrics {
  const confusion = confusionMatrix(labels, scores, threshold);
  return {
    accuracy: accuracy(confusion),
    precision: precision(confusion),
    recall: recall(confusion),
    f1: f1(confusion),
    rocAuc: rocAuc(labels, scores),
    prAuc: prAuc(labels, scores),
    logLoss: logLoss(labels, scores),
    positiveRate: labels.length === 0 ? 0 : (confusion.truePositives + confusion.falsePositives) / labels.length,
    confusion,
    calibration: calibrationBins(labels, scores),
  };
}

export function regressionMetrics(targets: ArrayLike<number>, predictions: ArrayLike<number>): RegressionMetrics {
  const n = targets.length;
  let squared = 0;
  let absolute = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += (targets[i] as number) / n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const error = (targets[i] as number) - (predictions[i] as number);
    squared += error * error;
    absolute += Math.abs(error);
    total += ((targets[i] as number) - mean) ** 2;
  }
  return {
    rmse: n === 0 ? 0 : Math.sqrt(squared / n),
    mae: n === 0 ? 0 : absolute / n,
    r2: total === 0 ? null : 1 - squared / total,
  };
}
