import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { FeatureValue, FeatureVector, ServingSignature } from './signature';

/** One row of a snapshot (feature-store's NDJSON: entity_id, event_time, the features, maybe a label). */
export interface SnapshotRow {
  readonly entityId: string;
  readonly eventTime: string | null;
  /** The model's features; absent ones are null (missing, imputed). */
  readonly features: FeatureVector;
}

export type SnapshotError = DomainError<'invalid_snapshot'>;

/** Parses NDJSON lines into rows for the model; a line that is not an object with an entity_id is refused. */
export function parseSnapshotLines(
  signature: ServingSignature,
  lines: readonly string[],
  firstLine: number,
): Result<SnapshotRow[], SnapshotError> {
  const names = [...signature.numericFeatures, ...signature.categoricalFeatures];
  const rows: SnapshotRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return err(domainError('invalid_snapshot', `line ${firstLine + i + 1} is not JSON`));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return err(domainError('invalid_snapshot', `line ${firstLine + i + 1} is not a JSON object`));
    const record = value as Record<string, unknown>;
    if (typeof record.entity_id !== 'string' || record.entity_id === '')
      return err(domainError('invalid_snapshot', `line ${firstLine + i + 1} has no entity_id`));
    const features: Record<string, FeatureValue> = {};
    for (const name of names) {
      const feature = record[name];
      features[name] = feature === undefined ? null : (feature as FeatureValue);
    }
    rows.push({
      entityId: record.entity_id,
      eventTime: typeof record.event_time === 'string' ? record.event_time : null,
      features,
    });
  }
  return ok(rows);
}
