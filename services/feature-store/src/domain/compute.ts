import {
  type AggregationState,
  type EventOutcome,
  aggregateAsOf,
  applyEvent,
  emptyAggregationState,
} from './aggregation-state';
import { evaluateExpression } from './expression';
import type { CastTarget, CompiledFeature, FeatureView } from './feature-view';
import { type Result, err, ok } from '@mlops/core';
import { type JsonObject, type Scalar, jsonSafe, ownValue, setField } from './json';
import { valueAt } from './record-schema';

/** Feature name to value; every value is JSON-safe (no NaN or infinities). */
export type FeatureVector = Record<string, Scalar>;

/** One validated record (the data of an mlops.data.validated.v1 event). */
export interface SourceRecord {
  /** Stable identity of the record, used to count it once: recordId when upstream has one, else sourceEventId. */
  readonly id: string;
  /** RFC 3339 event time (or ms since the epoch). */
  readonly eventTime: string | number;
  readonly fields: JsonObject;
}

export interface FeatureComputation {
  /** The vector as of this record's event time: its row for the offline store and point-in-time joins. */
  readonly features: FeatureVector;
  /** The entity's vector as of its newest record (aggregates as of that time): what to materialise online. */
  readonly latest: { readonly features: FeatureVector; readonly eventTimeMs: number };
  /** Save this in the transaction that records the event as processed. */
  readonly state: AggregationState;
  readonly outcome: EventOutcome;
  /** Why a feature of `features` is null although its inputs were present (refused values: log of a negative, division by zero...). */
  readonly nullReasons: Readonly<Record<string, string>>;
}

/**
 * The feature vector of one record and the entity's updated state. Pure: `state` is not modified.
 * A duplicate (record id already counted) returns the unchanged state with outcome "duplicate": write no new
 * offline row for it. A late one (older than the longest window) updates no aggregate but still gets its row.
 */
export function computeFeatures(
  view: FeatureView,
  record: SourceRecord,
  state: AggregationState = emptyAggregationState(),
): Result<FeatureComputation, string> {
  const eventTimeMs = typeof record.eventTime === 'number' ? record.eventTime : Date.parse(record.eventTime);
  if (!Number.isFinite(eventTimeMs)) return err(`event time "${String(record.eventTime)}" is not a date-time`);
  if (typeof record.id !== 'string' || record.id.length === 0) return err('the record has no id to count it once');

  const values: Record<string, Scalar> = {};
  for (const spec of view.series) setField(values, spec.field, valueAt(record.fields, spec.field));
  const rowFields: Record<string, Scalar> = {};
  for (const field of view.rowFields) setField(rowFields, field, valueAt(record.fields, field));

  const applied = applyEvent(
    state,
    { series: view.series, horizonMs: view.horizonMs },
    { id: record.id, eventTimeMs, values, rowFields },
  );
  const own = evaluateView(view, rowFields, aggregatesOf(applied.state, eventTimeMs));
  const latestRecord = applied.state.latest;
  const latest =
    latestRecord && latestRecord.id !== record.id
      ? {
          features: evaluateView(view, latestRecord.fields, aggregatesOf(applied.state, latestRecord.eventTimeMs))
            .features,
          eventTimeMs: latestRecord.eventTimeMs,
        }
      : { features: own.features, eventTimeMs };
  return ok({
    features: own.features,
    latest,
    state: applied.state,
    outcome: applied.outcome,
    nullReasons: own.nullReasons,
  });
}

/** What one record does to a view's entity, as materialization applies it (live, or replayed by a backfill). */
export interface RecordEffect {
  /** The entity's state to save. */
  readonly state: AggregationState;
  /** The record's row for the offline store. */
  readonly row: FeatureVector;
  /** The entity's new online vector, or null when it stays as it was. */
  readonly vector: FeatureComputation['latest'] | null;
}

/**
 * computeFeatures, then what to write: nothing for a duplicate (null); otherwise the state and the offline row,
 * and the latest vector when it changes: when the record is the newest, or when it counts in a window (a late
 * record, or an older one of a view without aggregates, leaves it as it was).
 */
export function applyRecord(
  view: FeatureView,
  record: SourceRecord,
  state: AggregationState,
): Result<RecordEffect | null, string> {
  const computed = computeFeatures(view, record, state);
  if (!computed.ok) return computed;
  const { features, latest, outcome } = computed.value;
  if (outcome === 'duplicate') return ok(null);
  const isNewest =
    latest.eventTimeMs === (typeof record.eventTime === 'number' ? record.eventTime : Date.parse(record.eventTime));
  const moves = outcome !== 'late' && (isNewest || view.series.length > 0);
  return ok({ state: computed.value.state, row: features, vector: moves ? latest : null });
}

/**
 * The entity's vector at any time from its state alone: row-level features of its newest record, aggregates
 * as of `asOfMs` (e.g. now, so that windows keep sliding without new events). Null when the state has no record.
 */
export function featuresAsOf(view: FeatureView, state: AggregationState, asOfMs: number): FeatureVector | null {
  return state.latest ? evaluateView(view, state.latest.fields, aggregatesOf(state, asOfMs)).features : null;
}

/**
 * The vector from exact inputs computed elsewhere (a training set: the record in force at the label time and each
 * aggregate over its window ending there): transforms and expressions run here, as for every other vector.
 */
export function featuresFromInputs(
  view: FeatureView,
  fields: Readonly<Record<string, Scalar>>,
  aggregates: Readonly<Record<string, number | null>>,
): FeatureVector {
  return evaluateView(view, fields, (feature) => aggregates[feature.name] ?? null).features;
}

type AggregateOf = (feature: Extract<CompiledFeature, { kind: 'aggregate' }>) => number | null;

function aggregatesOf(state: AggregationState, asOfMs: number): AggregateOf {
  return (feature) => aggregateAsOf(state, feature.aggregation, asOfMs);
}

/** Whether a value with this event time is still valid at `nowMs` under the view's TTL. */
export function isFresh(view: FeatureView, eventTimeMs: number, nowMs: number): boolean {
  return nowMs - eventTimeMs <= view.ttlMs;
}

function evaluateView(
  view: FeatureView,
  fields: Readonly<Record<string, Scalar>>,
  aggregateOf: AggregateOf,
): { features: FeatureVector; nullReasons: Record<string, string> } {
  const computed: Record<string, Scalar> = {};
  const nullReasons: Record<string, string> = {};
  const field = (path: string): Scalar =>
    Object.prototype.hasOwnProperty.call(fields, path) ? (fields[path] as Scalar) : null;
  const set = (name: string, value: Scalar, reason?: string): void => {
    const safe = jsonSafe(value);
    setField(computed, name, safe);
    if (safe === null && value !== null) setField(nullReasons, name, `${String(value)} is not a finite number`);
    else if (safe === null && reason) setField(nullReasons, name, reason);
  };
  for (const feature of view.features) computeOne(feature, field, computed, aggregateOf, set);
  // Declaration order, so that every vector of a view lists its features in the same order.
  const features: FeatureVector = {};
  for (const name of view.outputNames) setField(features, name, ownValue(computed, name) ?? null);
  return { features, nullReasons };
}

function computeOne(
  feature: CompiledFeature,
  field: (path: string) => Scalar,
  computed: Readonly<Record<string, Scalar>>,
  aggregateOf: AggregateOf,
  set: (name: string, value: Scalar, reason?: string) => void,
): void {
  switch (feature.kind) {
    case 'field': {
      const value = field(feature.field);
      if (feature.cast === undefined) return set(feature.name, value);
      const cast = castValue(value, feature.cast);
      return set(feature.name, cast.value, cast.reason);
    }
    case 'log': {
      const x = field(feature.field);
      if (x === null) return set(feature.name, null);
      if (typeof x !== 'number') return set(feature.name, null, `log needs a number, got ${typeof x}`);
      const shifted = x + feature.offset;
      return shifted > 0
        ? set(feature.name, Math.log(shifted))
        : set(feature.name, null, `log of ${x} + ${feature.offset} = ${shifted} (not positive) is undefined`);
    }
    case 'bucketize': {
      const x = field(feature.field);
      if (x === null) return set(feature.name, null);
      if (typeof x !== 'number' || !Number.isFinite(x))
        return set(feature.name, null, `bucketize needs a finite number, got ${String(x)}`);
      return set(feature.name, feature.boundaries.filter((boundary) => boundary <= x).length);
    }
    case 'categorical': {
      const value = field(feature.field);
      const category = value === null ? null : String(value);
      if (feature.encoding === 'index') {
        if (category === null) return set(feature.name, null);
        const index = feature.vocabulary.indexOf(category);
        return set(feature.name, index >= 0 ? index : feature.outOfVocabularyIndex);
      }
      feature.vocabulary.forEach((entry, i) =>
        set(feature.outputs[i] as string, category === null ? null : entry === category ? 1 : 0),
      );
      return;
    }
    case 'expression': {
      const result = evaluateExpression(feature.ast, (name) =>
        Object.prototype.hasOwnProperty.call(computed, name) ? (computed[name] as Scalar) : field(name),
      );
      return set(feature.name, result.value, result.nullReason);
    }
    case 'aggregate':
      return set(feature.name, aggregateOf(feature));
  }
}

function castValue(value: Scalar, target: CastTarget): { value: Scalar; reason?: string } {
  if (value === null) return { value: null };
  switch (target) {
    case 'number': {
      if (typeof value === 'number') return { value };
      if (typeof value === 'boolean') return { value: value ? 1 : 0 };
      const text = value.trim();
      const parsed = text === '' ? NaN : Number(text);
      return Number.isFinite(parsed) ? { value: parsed } : { value: null, reason: `"${value}" is not a number` };
    }
    case 'string':
      return { value: String(value) };
    case 'boolean': {
      if (typeof value === 'boolean') return { value };
      if (typeof value === 'number') return { value: value !== 0 };
      const text = value.trim().toLowerCase();
      if (text === 'true' || text === '1') return { value: true };
      if (text === 'false' || text === '0') return { value: false };
      return { value: null, reason: `"${value}" is not a boolean (true/false/1/0)` };
    }
  }
}
