import type { SnapshotColumn } from './snapshot-format';
import type { KnownAtSemantics } from './training-set';

/** How usable a training set is: what the created event and the status report. */
export interface TrainingSetQuality {
  rows: number;
  /** Rows with at least one feature value. */
  rowsWithFeatures: number;
  /** Rows per label value (JSON text of the value), most frequent first, at most 20 values. */
  labelBalance: Array<{ label: string; rows: number }>;
  /** Per feature column, the share of rows with a value (0..1), in column order. */
  features: Array<{ name: string; share: number }>;
  /** Set when most rows have no feature at all: what is wrong, and the likely cause. */
  warning?: string;
}

/** What the offline store says about the view's records, to name the likely cause of an empty training set. */
export interface SourceDiagnostics {
  dataset: string;
  /** Records of the dataset with an event time before the end of the range. */
  records: number;
  /** The earliest known_at among them (ms), null without records. */
  earliestKnownMs: number | null;
}

export const LABEL_BALANCE_VALUES = 20;

/** Quality of rows already encoded: `lines` are the snapshot's rows, `columns` its columns. */
export function trainingSetQuality(
  columns: readonly SnapshotColumn[],
  lines: ReadonlyArray<Record<string, unknown>>,
): TrainingSetQuality {
  const featureNames = columns.filter((c) => c.role === 'feature').map((c) => c.name);
  const label = columns.find((c) => c.role === 'label')?.name;
  const withValue = new Map(featureNames.map((name) => [name, 0]));
  const balance = new Map<string, number>();
  let rowsWithFeatures = 0;
  for (const line of lines) {
    let any = false;
    for (const name of featureNames) {
      if (line[name] === null || line[name] === undefined) continue;
      any = true;
      withValue.set(name, (withValue.get(name) ?? 0) + 1);
    }
    if (any) rowsWithFeatures += 1;
    const value = JSON.stringify(label === undefined ? null : (line[label] ?? null));
    balance.set(value, (balance.get(value) ?? 0) + 1);
  }
  const rows = lines.length;
  const share = (n: number): number => (rows === 0 ? 0 : Math.round((n / rows) * 1e6) / 1e6);
  return {
    rows,
    rowsWithFeatures,
    labelBalance: [...balance]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, LABEL_BALANCE_VALUES)
      .map(([value, n]) => ({ label: value, rows: n })),
    features: featureNames.map((name) => ({ name, share: share(withValue.get(name) ?? 0) })),
  };
}

/** The warning for a training set whose rows mostly have no feature, naming the likely cause; undefined when fine. */
export function emptinessWarning(
  quality: Pick<TrainingSetQuality, 'rows' | 'rowsWithFeatures'>,
  semantics: KnownAtSemantics,
  latestLabelMs: number | null,
  source: SourceDiagnostics,
  ttlMs: number,
): string | undefined {
  if (quality.rows === 0 || quality.rowsWithFeatures * 2 >= quality.rows) return undefined;
  const what = `${quality.rows - quality.rowsWithFeatures} of ${quality.rows} rows have no feature value`;
  if (source.records === 0)
    return `${what}: dataset "${source.dataset}" has no record with an event time before the end of the time range`;
  if (
    semantics === 'as-known' &&
    latestLabelMs !== null &&
    source.earliestKnownMs !== null &&
    source.earliestKnownMs > latestLabelMs
  )
    return (
      `${what}: every record of "${source.dataset}" became known after every label (as-known semantics), as in a ` +
      'history import; request semantics "event-time", or ingest history with knownAt (?knownAt=event-time)'
    );
  return (
    `${what}: most labels have no record of their entity known at the label time within the TTL ` +
    `(${ttlMs / 1000} s) or the windows; check the entity ids, the TTL${semantics === 'as-known' ? ', and when the records became known (semantics "event-time" ignores it)' : ''}`
  );
}
