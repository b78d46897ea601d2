import type { FeatureValue } from './offline-store';
import type { PointInTimeRow } from './point-in-time';

export type ColumnType = 'number' | 'string' | 'boolean';
export type ColumnRole = 'entity' | 'event_time' | 'feature' | 'label';

export interface SnapshotColumn {
  name: string;
  type: ColumnType;
  role: ColumnRole;
}

export interface EncodedSnapshot {
  columns: SnapshotColumn[];
  rows: number;
  bytes: Buffer;
}

export const ENTITY_COLUMN = 'entity_id';
export const EVENT_TIME_COLUMN = 'event_time';
export const SNAPSHOT_MEDIA_TYPE = 'application/x-ndjson';
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

/**
 * The snapshot file format ("jsonl"), byte-for-byte deterministic:
 * - UTF-8, one JSON object per line, each line ending in "\n", no header line; an empty snapshot is 0 bytes.
 * - rows in the order the query returns them: entity_id, then label time, then label row id.
 * - keys in column order: entity_id, event_time (the label's time, RFC 3339 UTC with milliseconds),
 *   the features (the given list, else every feature name seen, sorted by code point), then the label.
 * - a missing feature is null; a feature whose values mix types is written as strings (JSON text of non-strings).
 * - numbers are written by JSON.stringify (shortest round-trip form), so equal inputs give equal bytes.
 */
export function encodeSnapshot(
  rows: readonly PointInTimeRow[],
  labelField: string,
  featureNames?: readonly string[],
): EncodedSnapshot {
  if (!COLUMN_NAME.test(labelField)) throw new SnapshotFormatError(`invalid label field "${labelField}"`);
  const decoded = rows.map((row) => ({
    entityId: row.entity_id,
    eventTime: new Date(Number(row.label_time_ms)).toISOString(),
    features: row.features === null ? {} : (JSON.parse(row.features) as Record<string, FeatureValue>),
    label: JSON.parse(row.label_json) as unknown,
  }));

  const names = featureNames ? [...featureNames] : sortedUnion(decoded.map((row) => Object.keys(row.features)));
  const reserved = new Set([ENTITY_COLUMN, EVENT_TIME_COLUMN, labelField]);
  const seen = new Set<string>();
  for (const name of names) {
    if (!COLUMN_NAME.test(name)) throw new SnapshotFormatError(`feature "${name}" is not a valid column name`);
    if (reserved.has(name))
      throw new SnapshotFormatError(
        `feature "${name}" collides with the ${name === labelField ? 'label' : name} column`,
      );
    if (seen.has(name)) throw new SnapshotFormatError(`feature "${name}" is listed twice`);
    seen.add(name);
  }

  const featureTypes = names.map((name) => typeOfValues(decoded.map((row) => row.features[name])));
  const labelType = typeOfValues(decoded.map((row) => row.label));
  const columns: SnapshotColumn[] = [
    { name: ENTITY_COLUMN, type: 'string', role: 'entity' },
    { name: EVENT_TIME_COLUMN, type: 'string', role: 'event_time' },
    ...names.map((name, i) => ({ name, type: featureTypes[i] ?? 'number', role: 'feature' as const })),
    { name: labelField, type: labelType, role: 'label' },
  ];

  const lines = decoded.map((row) => {
    const cells = [
      cell(ENTITY_COLUMN, row.entityId),
      cell(EVENT_TIME_COLUMN, row.eventTime),
      ...names.map((name, i) => cell(name, coerce(row.features[name], featureTypes[i] ?? 'number'))),
      cell(labelField, coerce(row.label, labelType)),
    ];
    return `{${cells.join(',')}}\n`;
  });
  return { columns, rows: decoded.length, bytes: Buffer.from(lines.join(''), 'utf8') };
}

function cell(name: string, value: unknown): string {
  return `${JSON.stringify(name)}:${JSON.stringify(value ?? null)}`;
}

function sortedUnion(lists: string[][]): string[] {
  const all = new Set<string>();
  for (const list of lists) for (const name of list) all.add(name);
  return [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** number or boolean when every non-null value is; string otherwise (and when all are null: number, the ML default). */
function typeOfValues(values: readonly unknown[]): ColumnType {
  const kinds = new Set(values.filter((value) => value !== null && value !== undefined).map((value) => typeof value));
  if (kinds.size === 0) return 'number';
  if (kinds.size === 1 && (kinds.has('number') || kinds.has('boolean') || kinds.has('string')))
    return [...kinds][0] as ColumnType;
  return 'string';
}

function coerce(value: unknown, type: ColumnType): FeatureValue {
  if (value === null || value === undefined) return null;
  if (type === 'string' && typeof value !== 'string') return JSON.stringify(value);
  return value as FeatureValue;
}
