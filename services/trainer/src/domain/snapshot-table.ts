import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { RawColumn, RawTable, Task } from '@mlops/ml';

/** A column of a snapshot as `mlops.dataset.snapshot.created.v1` lists it. */
export interface SnapshotColumn {
  readonly name: string;
  readonly type: 'number' | 'string' | 'boolean';
  readonly role: 'entity' | 'event_time' | 'feature' | 'label';
}

/** The labelled rows of a snapshot: features (numeric first, then categorical), labels and event times. */
export interface TrainingTable {
  readonly table: RawTable;
  readonly labels: Float64Array;
  readonly eventTimes: Float64Array;
  /** Rows dropped because their label was null. */
  readonly unlabelledRows: number;
}

export type TrainingStage = 'snapshot' | 'training' | 'evaluation' | 'export' | 'publish';

/** Why a run failed: `kind` is the event's errorCode, the message says what a person can do about it. */
export type TrainingError = DomainError & {
  readonly details: { readonly stage: TrainingStage; readonly retryable: boolean };
};

export function trainingError(
  kind: string,
  message: string,
  stage: TrainingStage = 'training',
  retryable = false,
): TrainingError {
  return domainError(kind, message, { stage, retryable }) as TrainingError;
}

/**
 * Reads a "jsonl" snapshot (feature-store's snapshot-format.ts: one JSON object per line, keys in column order):
 * numbers and booleans become numeric features (null = NaN), strings categorical ones; rows without a label are
 * dropped. Refuses, with a cause a person can act on, data no model can be trained on.
 */
export function readTrainingTable(
  bytes: Uint8Array,
  columns: readonly SnapshotColumn[],
  task: Task,
): Result<TrainingTable, TrainingError> {
  const label = columns.find((column) => column.role === 'label');
  if (!label) return err(trainingError('no_label_column', 'the snapshot has no label column', 'snapshot'));
  const features = columns.filter((column) => column.role === 'feature');
  if (features.length === 0)
    return err(
      trainingError(
        'no_features',
        'the snapshot has no feature column: the feature view defines no feature',
        'snapshot',
      ),
    );
  const eventTime = columns.find((column) => column.role === 'event_time');
  const ordered = [
    ...features.filter((column) => column.type !== 'string'),
    ...features.filter((column) => column.type === 'string'),
  ];

  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const lines = text.split('\n').filter((line) => line.length > 0);
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length; i++) {
    try {
      const value = JSON.parse(lines[i] as string) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
      records.push(value as Record<string, unknown>);
    } catch {
      return err(
        trainingError('snapshot_unreadable', `line ${i + 1} of the snapshot is not a JSON object`, 'snapshot'),
      );
    }
  }
  let unlabelledRows = 0;
  const labelled: Record<string, unknown>[] = [];
  const labels: number[] = [];
  for (const record of records) {
    const raw = record[label.name];
    if (raw === null || raw === undefined) {
      unlabelledRows++;
      continue;
    }
    const value = labelValue(raw, task);
    if (value === undefined) {
      const expected = task === 'binary' ? 'true/false or 0/1' : 'a number';
      return err(
        trainingError(
          'unsupported_label',
          `label "${label.name}" has the value ${JSON.stringify(raw)}; a ${task} model needs ${expected}`,
        ),
      );
    }
    labelled.push(record);
    labels.push(value);
  }
  if (labelled.length === 0) {
    return err(
      trainingError(
        'no_labels',
        `the snapshot has ${records.length} rows and none has a "${label.name}" label: check that labels arrived for this training window`,
        'snapshot',
        true,
      ),
    );
  }
  if (task === 'binary') {
    const positives = labels.filter((value) => value === 1).length;
    if (positives === 0 || positives === labels.length) {
      return err(
        trainingError(
          'one_class',
          `every one of the ${labels.length} labels is ${positives === 0 ? 'negative' : 'positive'}: a classifier needs both classes; widen the training window or check the label field`,
        ),
      );
    }
  }
  const rawColumns: RawColumn[] = [];
  for (const column of ordered) {
    if (column.type === 'string') {
      const values = labelled.map((record) => {
        const value = record[column.name];
        return value === null || value === undefined ? null : String(value);
      });
      rawColumns.push({ name: column.name, kind: 'categorical', values });
    } else {
      const values = Float64Array.from(labelled, (record) => {
        const value = record[column.name];
        return typeof value === 'number' ? value : typeof value === 'boolean' ? (value ? 1 : 0) : Number.NaN;
      });
      rawColumns.push({ name: column.name, kind: 'numeric', values });
    }
  }
  for (const column of rawColumns) {
    const present =
      column.kind === 'numeric'
        ? Array.from(column.values).filter((value) => !Number.isNaN(value))
        : column.values.filter((value) => value !== null);
    if (present.length === 0) {
      return err(
        trainingError(
          'all_missing_feature',
          `feature "${column.name}" is missing in all ${labelled.length} labelled rows: check the feature view's definition and TTL`,
        ),
      );
    }
    if (present.every((value) => value === present[0])) {
      return err(
        trainingError(
          'constant_feature',
          `feature "${column.name}" is ${JSON.stringify(present[0])} in every row that has it: it cannot inform a model; drop it from the feature view or widen the window`,
        ),
      );
    }
  }
  const eventTimes = Float64Array.from(labelled, (record) => {
    const value = eventTime ? record[eventTime.name] : undefined;
    return typeof value === 'string' ? Date.parse(value) : 0;
  });
  return ok({
    table: { rows: labelled.length, columns: rawColumns },
    labels: Float64Array.from(labels),
    eventTimes,
    unlabelledRows,
  });
}

function labelValue(raw: unknown, task: Task): number | undefined {
  if (task === 'regression') return typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
  if (raw === true || raw === 1) return 1;
  if (raw === false || raw === 0) return 0;
  return undefined;
}
