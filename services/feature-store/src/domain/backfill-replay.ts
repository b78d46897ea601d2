import { type AggregationState, emptyAggregationState } from './aggregation-state';
import { type FeatureVector, applyRecord } from './compute';
import type { FeatureView } from './feature-view';
import type { JsonObject } from './json';

/** A source record as the offline store kept it on arrival, times in ms since the epoch. */
export interface ReplayedRecord {
  readonly entityId: string;
  readonly recordId: string;
  readonly sourceEventId: string;
  readonly eventTimeMs: number;
  /** When the record arrived: its replayed row keeps it (its data was known then; only the computation is new). */
  readonly createdAtMs: number;
  readonly fields: JsonObject;
}

/** The offline row a replayed record gets. */
export interface ReplayedRow {
  readonly entityId: string;
  readonly eventTimeMs: number;
  readonly createdAtMs: number;
  readonly features: FeatureVector;
  readonly sourceEventId: string;
}

/** The online vector of an entity after the replay, with the record it came from. */
export interface ReplayedVector {
  readonly features: FeatureVector;
  readonly eventTimeMs: number;
  readonly sourceEventId: string;
}

/** What one record did: a row to write, nothing (a record id already counted), or nothing because it cannot feed the view. */
export type ReplayStep =
  | { readonly kind: 'row'; readonly row: ReplayedRow }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'skipped'; readonly reason: string };

export interface ReplayProgress {
  /** Records replayed (rows, duplicates and skipped ones). */
  readonly records: number;
  /** Offline rows produced. */
  readonly rows: number;
  /** Entities with a state. */
  readonly entities: number;
  readonly skipped: number;
  /** Arrival time of the newest record replayed, or null before the first. */
  readonly upToMs: number | null;
}

/**
 * A view version's history computed from its dataset's records replayed in arrival order, each as live
 * materialization would have handled it (applyRecord): the per-entity states and latest vectors it ends with,
 * and one offline row per counted record. Pure: the caller reads the records and writes what it returns.
 */
export class FeatureViewReplay {
  private readonly entityStates = new Map<string, AggregationState>();
  private readonly entityVectors = new Map<string, ReplayedVector>();
  private records = 0;
  private rows = 0;
  private skipped = 0;
  private upToMs: number | null = null;

  constructor(readonly view: FeatureView) {}

  apply(record: ReplayedRecord): ReplayStep {
    this.records += 1;
    this.upToMs = record.createdAtMs;
    const state = this.entityStates.get(record.entityId) ?? emptyAggregationState();
    const applied = applyRecord(
      this.view,
      { id: record.recordId, eventTime: record.eventTimeMs, fields: record.fields },
      state,
    );
    if (!applied.ok) {
      // Live, such a record is dead-lettered; replayed, it is left out (and counted) rather than blocking the version.
      this.skipped += 1;
      return { kind: 'skipped', reason: applied.error };
    }
    const effect = applied.value;
    if (!effect) return { kind: 'duplicate' };
    this.entityStates.set(record.entityId, effect.state);
    if (effect.vector)
      this.entityVectors.set(record.entityId, { ...effect.vector, sourceEventId: record.sourceEventId });
    this.rows += 1;
    return {
      kind: 'row',
      row: {
        entityId: record.entityId,
        eventTimeMs: record.eventTimeMs,
        createdAtMs: record.createdAtMs,
        features: effect.row,
        sourceEventId: record.sourceEventId,
      },
    };
  }

  /** Each entity's aggregation state as the replay left it. */
  get states(): ReadonlyMap<string, AggregationState> {
    return this.entityStates;
  }

  /** Each entity's latest vector; an entity whose records never moved it (none so far) is absent. */
  get vectors(): ReadonlyMap<string, ReplayedVector> {
    return this.entityVectors;
  }

  get progress(): ReplayProgress {
    return {
      records: this.records,
      rows: this.rows,
      entities: this.entityStates.size,
      skipped: this.skipped,
      upToMs: this.upToMs,
    };
  }
}
