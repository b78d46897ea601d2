// Holdout metrics per value of the fields a request names (`sliceBy`), and the largest gap between slices, so a
// team sees a model that treats groups differently before promoting it. Pure.
import { type RawTable, type Task, classificationMetrics, regressionMetrics } from '@mlops/ml';

export const MISSING_SLICE = '(missing)';
/** Numeric fields with more distinct values are cut into this many quantile bins. */
const NUMERIC_BINS = 4;
const MAX_DISTINCT_NUMERIC = 10;

export interface SliceMetrics {
  readonly value: string;
  readonly rows: number;
  readonly metrics: Record<string, number>;
}

export interface SliceGap {
  readonly gap: number;
  readonly highest: string;
  readonly lowest: string;
}

export interface FieldSlices {
  readonly values: SliceMetrics[];
  readonly gaps: Record<string, SliceGap>;
}

export type Slices = Record<string, FieldSlices>;

/** The metrics whose spread between slices is reported: who gets predicted positive, and whom the model finds. */
const GAP_METRICS: Record<Task, readonly string[]> = {
  binary: ['positive_rate', 'recall'],
  regression: ['rmse', 'mae'],
};

function sliceLabels(table: RawTable, field: string): string[] | undefined {
  const column = table.columns.find((c) => c.name === field);
  if (!column) return undefined;
  if (column.kind === 'categorical') return column.values.map((v) => v ?? MISSING_SLICE);
  const values = column.values;
  const present = [...values].filter((v) => !Number.isNaN(v));
  const distinct = [...new Set(present)].sort((a, b) => a - b);
  if (distinct.length <= MAX_DISTINCT_NUMERIC)
    return [...values].map((v) => (Number.isNaN(v) ? MISSING_SLICE : String(v)));
  const sorted = [...present].sort((a, b) => a - b);
  const edges = Array.from(
    { length: NUMERIC_BINS - 1 },
    (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / NUMERIC_BINS)] as number,
  );
  const names = Array.from({ length: NUMERIC_BINS }, (_, i) => {
    const low = i === 0 ? '-inf' : String(edges[i - 1]);
    const high = i === NUMERIC_BINS - 1 ? 'inf' : String(edges[i]);
    return `[${low}, ${high})`;
  });
  return [...values].map((v) => {
    if (Number.isNaN(v)) return MISSING_SLICE;
    let bin = 0;
    while (bin < edges.length && v >= (edges[bin] as number)) bin++;
    return names[bin] as string;
  });
}

function metricsOfSlice(task: Task, labels: number[], predictions: number[]): Record<string, number> {
  if (task === 'binary') {
    const m = classificationMetrics(Float64Array.from(labels), Float64Array.from(predictions));
    const positives = labels.filter((y) => y === 1).length;
    return {
      label_rate: positives / labels.length,
      positive_rate: m.positiveRate,
      accuracy: m.accuracy,
      precision: m.precision,
      // Recall of a slice without positives is undefined, not 0: it must not make the gap.
      ...(positives > 0 ? { recall: m.recall } : {}),
      ...(m.rocAuc === null ? {} : { roc_auc: m.rocAuc }),
    };
  }
  const m = regressionMetrics(labels, predictions);
  return { rmse: m.rmse, mae: m.mae };
}

/**
 * Metrics per slice of each field, and per gap metric the largest difference between two slices with the
 * metric; undefined names a field the holdout does not have.
 */
export function sliceMetrics(
  task: Task,
  table: RawTable,
  labels: Float64Array,
  predictions: Float64Array,
  fields: readonly string[],
): { slices: Slices } | { unknownField: string } {
  const slices: Slices = {};
  for (const field of fields) {
    const names = sliceLabels(table, field);
    if (!names) return { unknownField: field };
    const groups = new Map<string, { labels: number[]; predictions: number[] }>();
    names.forEach((name, row) => {
      const group = groups.get(name) ?? { labels: [], predictions: [] };
      group.labels.push(labels[row] as number);
      group.predictions.push(predictions[row] as number);
      groups.set(name, group);
    });
    const values = [...groups.entries()]
      .map(([value, group]) => ({
        value,
        rows: group.labels.length,
        metrics: metricsOfSlice(task, group.labels, group.predictions),
      }))
      .sort((a, b) => b.rows - a.rows || a.value.localeCompare(b.value));
    const gaps: Record<string, SliceGap> = {};
    for (const metric of GAP_METRICS[task]) {
      const having = values.filter((slice) => slice.metrics[metric] !== undefined);
      if (having.length < 2) continue;
      // Ties go to the larger slice (values are ordered by rows).
      const score = (slice: SliceMetrics): number => slice.metrics[metric] as number;
      const highest = having.reduce((best, slice) => (score(slice) > score(best) ? slice : best));
      const lowest = having.reduce((worst, slice) => (score(slice) < score(worst) ? slice : worst));
      gaps[metric] = {
        gap: (highest.metrics[metric] as number) - (lowest.metrics[metric] as number),
        highest: highest.value,
        lowest: lowest.value,
      };
    }
    slices[field] = { values, gaps };
  }
  return { slices };
}

/** The largest gap of each gap metric over every field, as flat metrics (`max_slice_gap_recall`). */
export function largestGaps(slices: Slices): Record<string, number> {
  const largest: Record<string, number> = {};
  for (const field of Object.values(slices)) {
    for (const [metric, gap] of Object.entries(field.gaps)) {
      const key = `max_slice_gap_${metric}`;
      largest[key] = Math.max(largest[key] ?? 0, gap.gap);
    }
  }
  return largest;
}
