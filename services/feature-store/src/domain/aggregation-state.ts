import type { AggregateFunction, AggregationSpec, SeriesSpec } from './feature-view';
import { type Result, err, ok } from '@mlops/core';
import { type Scalar, isJsonObject, setField } from './json';

/**
 * Per-entity state of one feature view: windowed-aggregate buckets, the record ids already counted, and the
 * entity's newest record (for its online vector). Immutable: every update returns a new state.
 *
 * Contract with the service: load the state of (view, entity) in the transaction that inserts the inbox row
 * of the event, apply the event with computeFeatures, and save the returned state in that same transaction.
 * A redelivered Kafka message is then stopped by the inbox; the same record arriving again under another event
 * id (an upstream retry) is stopped here by its record id, which must be stable (recordId, else sourceEventId).
 *
 * Exactness: an id is remembered while its event can still count (event time within the longest window of the
 * newest event time). Past `maxSeenIds` per entity the oldest ids are forgotten and `seenFloorMs` rises to
 * their event time: events at or before it are then ignored as late, so nothing is ever counted twice.
 */
export interface AggregationState {
  readonly version: typeof STATE_VERSION;
  /** Newest event time seen for the entity (ms), null before the first event. */
  readonly watermarkMs: number | null;
  /** Series key (`field@granularityMs`) -> bucket start (ms) -> stats of the values in [start, start + granularity). */
  readonly series: ReadonlyMap<string, ReadonlyMap<number, BucketStats>>;
  /** Record id -> its event time (ms), for ids that may still count. */
  readonly seen: ReadonlyMap<string, number>;
  /** Events at or before this time are ignored: their ids may have been forgotten. */
  readonly seenFloorMs: number | null;
  /** The newest record of the entity: the source fields row-level features read. */
  readonly latest: LatestRecord | null;
}

export interface BucketStats {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

export interface LatestRecord {
  readonly id: string;
  readonly eventTimeMs: number;
  readonly fields: Readonly<Record<string, Scalar>>;
}

export const STATE_VERSION = 1;
export const DEFAULT_MAX_SEEN_IDS = 10_000;

export function emptyAggregationState(): AggregationState {
  return {
    version: STATE_VERSION,
    watermarkMs: null,
    series: new Map(),
    seen: new Map(),
    seenFloorMs: null,
    latest: null,
  };
}

/** counted: aggregated; duplicate: this record id was already counted (state unchanged); late: too old to count. */
export type EventOutcome = 'counted' | 'duplicate' | 'late';

export interface StateEvent {
  readonly id: string;
  readonly eventTimeMs: number;
  /** Value of each aggregated field (non-numbers are not aggregated). */
  readonly values: Readonly<Record<string, Scalar>>;
  /** The source fields the row-level features read. */
  readonly rowFields: Readonly<Record<string, Scalar>>;
}

export interface StateLayout {
  readonly series: readonly SeriesSpec[];
  /** The longest window of the view (0 when it has no aggregate). */
  readonly horizonMs: number;
  readonly maxSeenIds?: number;
}

/** The state after one event, and what happened to it. */
export function applyEvent(
  state: AggregationState,
  layout: StateLayout,
  event: StateEvent,
): { state: AggregationState; outcome: EventOutcome } {
  if (state.seen.has(event.id)) return { state, outcome: 'duplicate' };
  const watermarkMs = Math.max(state.watermarkMs ?? event.eventTimeMs, event.eventTimeMs);
  const newest = state.latest === null || event.eventTimeMs >= state.latest.eventTimeMs;
  const latest = newest
    ? { id: event.id, eventTimeMs: event.eventTimeMs, fields: { ...event.rowFields } }
    : state.latest;
  const late =
    (layout.horizonMs > 0 && event.eventTimeMs <= watermarkMs - layout.horizonMs) ||
    (state.seenFloorMs !== null && event.eventTimeMs <= state.seenFloorMs);
  if (late) return { state: { ...state, latest }, outcome: 'late' };

  const series = new Map(state.series);
  for (const spec of layout.series) {
    const buckets = new Map(series.get(spec.key) ?? []);
    const value = event.values[spec.field];
    if (typeof value === 'number' && Number.isFinite(value)) {
      const start = bucketStart(event.eventTimeMs, spec.granularityMs);
      const stats = buckets.get(start);
      buckets.set(
        start,
        stats
          ? {
              count: stats.count + 1,
              sum: stats.sum + value,
              min: Math.min(stats.min, value),
              max: Math.max(stats.max, value),
            }
          : { count: 1, sum: value, min: value, max: value },
      );
    }
    // Keep what a query at any still-countable event time may read: (watermark - horizon) - longest window of this series.
    const oldestKept = watermarkMs - layout.horizonMs - spec.longestWindowMs;
    for (const start of buckets.keys()) if (start <= oldestKept) buckets.delete(start);
    series.set(spec.key, buckets);
  }
  for (const key of series.keys()) if (!layout.series.some((spec) => spec.key === key)) series.delete(key);

  const seen = new Map(state.seen);
  seen.set(event.id, event.eventTimeMs);
  let seenFloorMs = state.seenFloorMs;
  for (const [id, time] of seen) if (layout.horizonMs > 0 && time <= watermarkMs - layout.horizonMs) seen.delete(id);
  const maxSeenIds = layout.maxSeenIds ?? DEFAULT_MAX_SEEN_IDS;
  if (seen.size > maxSeenIds) {
    const byTime = [...seen].sort((a, b) => a[1] - b[1]);
    for (const [id, time] of byTime.slice(0, seen.size - maxSeenIds)) {
      seen.delete(id);
      seenFloorMs = Math.max(seenFloorMs ?? time, time);
    }
  }
  return { state: { version: STATE_VERSION, watermarkMs, series, seen, seenFloorMs, latest }, outcome: 'counted' };
}

export function bucketStart(timeMs: number, granularityMs: number): number {
  return Math.floor(timeMs / granularityMs) * granularityMs;
}

// Granularity trade-off: a window (asOf - w, asOf] is read as the buckets whose START lies in it, so its edges are exact only to one bucket (1 min, or 1 h beyond 24 h); within those buckets count/sum/mean/min/max are exact.
/** The aggregate at `asOfMs`: count and sum of an empty window are 0; mean, min and max are null. */
export function aggregateAsOf(state: AggregationState, spec: AggregationSpec, asOfMs: number): number | null {
  const buckets = state.series.get(spec.series);
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const [start, stats] of buckets ?? []) {
    if (start <= asOfMs - spec.windowMs || start > asOfMs) continue;
    count += stats.count;
    sum += stats.sum;
    min = Math.min(min, stats.min);
    max = Math.max(max, stats.max);
  }
  return finalize(spec.function, count, sum, min, max);
}

function finalize(fn: AggregateFunction, count: number, sum: number, min: number, max: number): number | null {
  switch (fn) {
    case 'count':
      return count;
    case 'sum':
      return Number.isFinite(sum) ? sum : null;
    case 'mean':
      return count === 0 || !Number.isFinite(sum / count) ? null : sum / count;
    case 'min':
      return count === 0 ? null : min;
    case 'max':
      return count === 0 ? null : max;
  }
}

// ---------------------------------------------------------------- persistence

/** The JSON form of a state (e.g. a Postgres jsonb column); buckets are [start, count, sum, min, max] sorted by start. */
export interface SerializedAggregationState {
  readonly version: number;
  readonly watermarkMs: number | null;
  readonly series: Readonly<Record<string, readonly (readonly [number, number, number, number, number])[]>>;
  readonly seen: readonly (readonly [string, number])[];
  readonly seenFloorMs: number | null;
  readonly latest: {
    readonly id: string;
    readonly eventTimeMs: number;
    readonly fields: Readonly<Record<string, Scalar>>;
  } | null;
}

export function serializeState(state: AggregationState): SerializedAggregationState {
  const series: Record<string, [number, number, number, number, number][]> = {};
  for (const [key, buckets] of state.series) {
    series[key] = [...buckets].sort((a, b) => a[0] - b[0]).map(([start, s]) => [start, s.count, s.sum, s.min, s.max]);
  }
  return {
    version: state.version,
    watermarkMs: state.watermarkMs,
    series,
    seen: [...state.seen].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)),
    seenFloorMs: state.seenFloorMs,
    latest: state.latest,
  };
}

/** The state from its JSON form (an object, or its JSON text), or why it is not one this code can read. */
export function deserializeState(input: unknown): Result<AggregationState, string> {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch {
      return err('state is not valid JSON');
    }
  }
  if (!isJsonObject(json)) return err('state is not an object');
  if (json.version !== STATE_VERSION)
    return err(`state version ${String(json.version)} is not supported (expected ${STATE_VERSION})`);
  const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const watermarkMs = json.watermarkMs ?? null;
  const seenFloorMs = json.seenFloorMs ?? null;
  if (watermarkMs !== null && !isTime(watermarkMs)) return err('watermarkMs is not a number');
  if (seenFloorMs !== null && !isTime(seenFloorMs)) return err('seenFloorMs is not a number');
  if (!isJsonObject(json.series)) return err('series is not an object');
  const series = new Map<string, Map<number, BucketStats>>();
  for (const [key, rows] of Object.entries(json.series)) {
    if (!Array.isArray(rows)) return err(`series "${key}" is not an array`);
    const buckets = new Map<number, BucketStats>();
    for (const row of rows) {
      if (!Array.isArray(row) || row.length !== 5 || !row.every(isTime))
        return err(`series "${key}" has a malformed bucket`);
      const [start, count, sum, min, max] = row as number[];
      buckets.set(start as number, {
        count: count as number,
        sum: sum as number,
        min: min as number,
        max: max as number,
      });
    }
    series.set(key, buckets);
  }
  if (!Array.isArray(json.seen)) return err('seen is not an array');
  const seen = new Map<string, number>();
  for (const entry of json.seen) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !isTime(entry[1]))
      return err('seen has a malformed entry');
    seen.set(entry[0], entry[1]);
  }
  const latestJson = json.latest ?? null;
  let latest: LatestRecord | null = null;
  if (latestJson !== null) {
    if (
      !isJsonObject(latestJson) ||
      typeof latestJson.id !== 'string' ||
      !isTime(latestJson.eventTimeMs) ||
      !isJsonObject(latestJson.fields)
    ) {
      return err('latest is malformed');
    }
    const fields: Record<string, Scalar> = {};
    for (const [name, value] of Object.entries(latestJson.fields)) {
      if (value !== null && typeof value === 'object') return err(`latest field "${name}" is not a scalar`);
      setField(fields, name, value);
    }
    latest = { id: latestJson.id, eventTimeMs: latestJson.eventTimeMs, fields };
  }
  return ok({ version: STATE_VERSION, watermarkMs, series, seen, seenFloorMs, latest });
}
