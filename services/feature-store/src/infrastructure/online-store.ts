import type { DataSource, EntityManager } from 'typeorm';
import { execute, query, queryOne, schemaOf } from '@mlops/storage';
import {
  type AggregationState,
  type FeatureVector,
  deserializeState,
  emptyAggregationState,
  serializeState,
} from '../domain';
import { type FeatureStoreTables, featureStoreTables } from './tables';

/** A row of online_features: the latest vector of an entity per view version. */
interface OnlineFeaturesRow {
  view_name: string;
  view_version: number;
  entity_id: string;
  features: FeatureVector;
  event_time: Date;
  source_event_id: string;
  updated_at: Date;
}

/** A row of aggregation_states; `state` is a SerializedAggregationState, read back through deserializeState. */
interface AggregationStateRow {
  view_name: string;
  view_version: number;
  entity_id: string;
  state: unknown;
}

export interface OnlineVector {
  readonly viewName: string;
  readonly viewVersion: number;
  readonly entityId: string;
  readonly features: FeatureVector;
  readonly eventTime: Date;
  readonly sourceEventId: string;
  readonly updatedAt: Date;
}

/** The key of an entity's state of a view version in maps. */
export function stateKey(viewName: string, viewVersion: number, entityId: string): string {
  return `${viewName}\u0000${viewVersion}\u0000${entityId}`;
}

/** A stored state, or an error naming the entity when it cannot be read (a bug or a tampered row, not bad input). */
function readState(stored: unknown, viewName: string, viewVersion: number, entityId: string): AggregationState {
  const state = deserializeState(stored);
  if (!state.ok)
    throw new Error(`aggregation state of ${viewName}@${viewVersion}/${entityId} is unreadable: ${state.error}`);
  return state.value;
}

export interface StateRow {
  readonly viewName: string;
  readonly viewVersion: number;
  readonly entityId: string;
  readonly state: AggregationState;
  readonly updatedAt: Date;
}

/** The upsert of states, its five array parameters numbered from `first`. */
function upsertStates(tables: FeatureStoreTables, first: number): string {
  const [a, b, c, d, e] = [0, 1, 2, 3, 4].map((i) => `$${first + i}`);
  return `INSERT INTO ${tables.aggregation_states} (view_name, view_version, entity_id, state, updated_at)
    SELECT * FROM unnest(${a}::text[], ${b}::int[], ${c}::text[], ${d}::jsonb[], ${e}::timestamptz[])
    ON CONFLICT (view_name, view_version, entity_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`;
}

function stateParameters(rows: readonly StateRow[]): unknown[] {
  return [
    rows.map((r) => r.viewName),
    rows.map((r) => r.viewVersion),
    rows.map((r) => r.entityId),
    rows.map((r) => JSON.stringify(serializeState(r.state))),
    rows.map((r) => r.updatedAt.toISOString()),
  ];
}

/** The upsert of latest vectors, its seven array parameters numbered from `first`. */
function upsertVectors(tables: FeatureStoreTables, first: number): string {
  const [a, b, c, d, e, f, g] = [0, 1, 2, 3, 4, 5, 6].map((i) => `$${first + i}`);
  return `INSERT INTO ${tables.online_features} (view_name, view_version, entity_id, features, event_time, source_event_id, updated_at)
    SELECT * FROM unnest(${a}::text[], ${b}::int[], ${c}::text[], ${d}::jsonb[], ${e}::timestamptz[], ${f}::text[], ${g}::timestamptz[])
    ON CONFLICT (view_name, view_version, entity_id) DO UPDATE SET features = EXCLUDED.features, event_time = EXCLUDED.event_time,
      source_event_id = EXCLUDED.source_event_id, updated_at = EXCLUDED.updated_at`;
}

function vectorParameters(vectors: readonly OnlineVector[]): unknown[] {
  return [
    vectors.map((v) => v.viewName),
    vectors.map((v) => v.viewVersion),
    vectors.map((v) => v.entityId),
    vectors.map((v) => JSON.stringify(v.features)),
    vectors.map((v) => v.eventTime.toISOString()),
    vectors.map((v) => v.sourceEventId),
    vectors.map((v) => v.updatedAt.toISOString()),
  ];
}

/** Per-entity state and latest vector of each view version, written in the event's inbox transaction. */
export class OnlineStore {
  private readonly tables: FeatureStoreTables;

  constructor(private readonly dataSource: DataSource) {
    this.tables = featureStoreTables(schemaOf(dataSource));
  }

  /** The entity's state, locked until the transaction ends (replicas taking over a partition wait here). */
  async loadStateForUpdate(
    manager: EntityManager,
    viewName: string,
    viewVersion: number,
    entityId: string,
  ): Promise<AggregationState> {
    const row = await queryOne<Pick<AggregationStateRow, 'state'>>(
      manager,
      `SELECT state FROM ${this.tables.aggregation_states} WHERE view_name = $1 AND view_version = $2 AND entity_id = $3 FOR UPDATE`,
      [viewName, viewVersion, entityId],
    );
    return row ? readState(row.state, viewName, viewVersion, entityId) : emptyAggregationState();
  }

  /**
   * The states of several entities of view versions, locked until the transaction ends (in key order, so two
   * transactions lock common rows in the same order); an entity without a stored state is absent from the map.
   */
  async loadStatesForUpdate(
    manager: EntityManager,
    keys: ReadonlyArray<{ viewName: string; viewVersion: number; entityId: string }>,
  ): Promise<Map<string, AggregationState>> {
    const states = new Map<string, AggregationState>();
    if (keys.length === 0) return states;
    const rows = await query<AggregationStateRow>(
      manager,
      `SELECT s.view_name, s.view_version, s.entity_id, s.state FROM ${this.tables.aggregation_states} s
       JOIN unnest($1::text[], $2::int[], $3::text[]) AS k(view_name, view_version, entity_id)
         ON s.view_name = k.view_name AND s.view_version = k.view_version AND s.entity_id = k.entity_id
       ORDER BY s.view_name, s.view_version, s.entity_id
       FOR UPDATE OF s`,
      [keys.map((k) => k.viewName), keys.map((k) => k.viewVersion), keys.map((k) => k.entityId)],
    );
    for (const row of rows)
      states.set(
        stateKey(row.view_name, row.view_version, row.entity_id),
        readState(row.state, row.view_name, row.view_version, row.entity_id),
      );
    return states;
  }

  /** The entity's state for reading (no lock), or undefined when it has none. */
  async state(viewName: string, viewVersion: number, entityId: string): Promise<AggregationState | undefined> {
    const row = await queryOne<Pick<AggregationStateRow, 'state'>>(
      this.dataSource.manager,
      `SELECT state FROM ${this.tables.aggregation_states} WHERE view_name = $1 AND view_version = $2 AND entity_id = $3`,
      [viewName, viewVersion, entityId],
    );
    return row ? readState(row.state, viewName, viewVersion, entityId) : undefined;
  }

  /** Upserts states, one row per entity (a row appears at most once: ON CONFLICT cannot touch a row twice). */
  async saveStates(manager: EntityManager, rows: readonly StateRow[]): Promise<void> {
    if (rows.length === 0) return;
    await execute(manager, upsertStates(this.tables, 1), stateParameters(rows));
  }

  /** Upserts states and latest vectors in one statement (one round trip), one row per entity in each. */
  async saveStatesAndVectors(
    manager: EntityManager,
    states: readonly StateRow[],
    vectors: readonly OnlineVector[],
  ): Promise<void> {
    if (states.length === 0) return this.saveVectors(manager, vectors);
    if (vectors.length === 0) return this.saveStates(manager, states);
    await execute(manager, `WITH saved_states AS (${upsertStates(this.tables, 1)}) ${upsertVectors(this.tables, 6)}`, [
      ...stateParameters(states),
      ...vectorParameters(vectors),
    ]);
  }

  /** Upserts latest vectors, one row per entity. */
  async saveVectors(manager: EntityManager, vectors: readonly OnlineVector[]): Promise<void> {
    if (vectors.length === 0) return;
    await execute(manager, upsertVectors(this.tables, 1), vectorParameters(vectors));
  }

  async vector(viewName: string, viewVersion: number, entityId: string): Promise<OnlineVector | undefined> {
    const row = await queryOne<OnlineFeaturesRow>(
      this.dataSource.manager,
      `SELECT view_name, view_version, entity_id, features, event_time, source_event_id, updated_at FROM ${this.tables.online_features}
       WHERE view_name = $1 AND view_version = $2 AND entity_id = $3`,
      [viewName, viewVersion, entityId],
    );
    return row
      ? {
          viewName: row.view_name,
          viewVersion: row.view_version,
          entityId: row.entity_id,
          features: row.features,
          eventTime: new Date(row.event_time),
          sourceEventId: row.source_event_id,
          updatedAt: new Date(row.updated_at),
        }
      : undefined;
  }
}
