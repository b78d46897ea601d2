import type { DataSource, EntityManager } from 'typeorm';
import type { ModelRegisteredV1, ModelTrainedV1 } from '@mlops/contracts';
import { execute, query, queryOne, schemaOf } from '@mlops/storage';
import type { PolicyOverrides } from '../domain';
import { type MonitorPgTables, monitorPgTables } from './tables';

export interface ModelVersionRow {
  model: string;
  version: number;
  task: 'binary_classification' | 'regression';
  training_run_id: string;
  metrics: Record<string, number>;
  label_dataset: string;
  label_field: string;
  registered_at: Date;
}

export interface LineageRow {
  model: string;
  training_run_id: string;
  task: 'binary_classification' | 'regression';
  algorithm: string;
  feature_view: { name: string; version: number };
  labels: { dataset: string; field: string };
  training_window: { start: string; end: string };
  params: Record<string, number | string | boolean>;
  trained_at: Date;
}

export interface TrainingStateRow {
  model: string;
  in_flight_run_id: string | null;
  in_flight_since: Date | null;
  last_requested_at: Date | null;
  drift_streak: number;
  degraded: boolean;
  last_drift_window: string | null;
  /** The last drift or degradation event of ours: the cause a training request names. */
  cause_event_id: string | null;
  /** Start of the first window of the current drift streak (null: no streak). */
  drift_started_at: Date | null;
}

/** The monitor's Postgres state: versions and lineage learnt from the registry's events, policies, training state. */
export class MonitorStore {
  private readonly t: MonitorPgTables;

  constructor(readonly dataSource: DataSource) {
    this.t = monitorPgTables(schemaOf(dataSource));
  }

  async saveVersion(manager: EntityManager, data: ModelRegisteredV1): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.t.model_versions}
         (model, version, task, training_run_id, metrics, feature_names, label_dataset, label_field, registered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (model, version) DO NOTHING`,
      [
        data.model,
        data.version,
        data.task,
        data.trainingRunId,
        JSON.stringify(data.metrics),
        JSON.stringify(data.signature.featureNames),
        data.lineage.labels.dataset,
        data.lineage.labels.field,
        data.registeredAt,
      ],
    );
  }

  versions(manager: EntityManager = this.dataSource.manager, model?: string): Promise<ModelVersionRow[]> {
    return query<ModelVersionRow>(
      manager,
      `SELECT model, version, task, training_run_id, metrics, label_dataset, label_field, registered_at
       FROM ${this.t.model_versions} ${model ? 'WHERE model = $1' : ''} ORDER BY model, version`,
      model ? [model] : [],
    );
  }

  /** The newest training lineage of a model: the trainer's own later run replaces an earlier one. */
  async saveLineage(manager: EntityManager, data: ModelTrainedV1): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.t.model_lineage}
         (model, training_run_id, task, algorithm, feature_view, labels, training_window, params, trained_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (model) DO UPDATE SET training_run_id = EXCLUDED.training_run_id, task = EXCLUDED.task,
         algorithm = EXCLUDED.algorithm, feature_view = EXCLUDED.feature_view, labels = EXCLUDED.labels,
         training_window = EXCLUDED.training_window, params = EXCLUDED.params, trained_at = EXCLUDED.trained_at
       WHERE ${this.t.model_lineage}.trained_at <= EXCLUDED.trained_at`,
      [
        data.model,
        data.trainingRunId,
        data.task,
        data.algorithm,
        JSON.stringify(data.lineage.featureView),
        JSON.stringify(data.lineage.labels),
        JSON.stringify(data.lineage.trainingWindow),
        JSON.stringify(data.params),
        data.trainedAt,
      ],
    );
  }

  lineage(manager: EntityManager, model: string): Promise<LineageRow | undefined> {
    return queryOne<LineageRow>(manager, `SELECT * FROM ${this.t.model_lineage} WHERE model = $1`, [model]);
  }

  async policy(manager: EntityManager, model: string): Promise<PolicyOverrides | undefined> {
    const row = await queryOne<{ policy: PolicyOverrides }>(
      manager,
      `SELECT policy FROM ${this.t.policies} WHERE model = $1`,
      [model],
    );
    return row?.policy;
  }

  async savePolicy(manager: EntityManager, model: string, policy: PolicyOverrides): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.t.policies} (model, policy) VALUES ($1, $2)
       ON CONFLICT (model) DO UPDATE SET policy = EXCLUDED.policy, updated_at = now()`,
      [model, JSON.stringify(policy)],
    );
  }

  /** The training state of a model, locked until the transaction ends (created empty when missing). */
  async stateForUpdate(manager: EntityManager, model: string): Promise<TrainingStateRow> {
    await execute(manager, `INSERT INTO ${this.t.training_state} (model) VALUES ($1) ON CONFLICT DO NOTHING`, [model]);
    return (await queryOne<TrainingStateRow>(
      manager,
      `SELECT model, in_flight_run_id, in_flight_since, last_requested_at, drift_streak, degraded, last_drift_window,
         cause_event_id, drift_started_at
       FROM ${this.t.training_state} WHERE model = $1 FOR UPDATE`,
      [model],
    ))!;
  }

  state(manager: EntityManager, model: string): Promise<TrainingStateRow | undefined> {
    return queryOne<TrainingStateRow>(manager, `SELECT * FROM ${this.t.training_state} WHERE model = $1`, [model]);
  }

  async saveState(manager: EntityManager, state: TrainingStateRow): Promise<void> {
    await execute(
      manager,
      `UPDATE ${this.t.training_state} SET in_flight_run_id = $2, in_flight_since = $3, last_requested_at = $4,
         drift_streak = $5, degraded = $6, last_drift_window = $7, cause_event_id = $8, drift_started_at = $9,
         updated_at = now()
       WHERE model = $1`,
      [
        state.model,
        state.in_flight_run_id,
        state.in_flight_since,
        state.last_requested_at,
        state.drift_streak,
        state.degraded,
        state.last_drift_window,
        state.cause_event_id,
        state.drift_started_at,
      ],
    );
  }

  /** Clears the in-flight request when the trainer answered that run (trained or failed); other runs change nothing. */
  async clearInFlight(manager: EntityManager, model: string, trainingRunId: string): Promise<boolean> {
    const touched = await execute(
      manager,
      `UPDATE ${this.t.training_state} SET in_flight_run_id = NULL, in_flight_since = NULL, updated_at = now()
       WHERE model = $1 AND in_flight_run_id = $2`,
      [model, trainingRunId],
    );
    return touched > 0;
  }

  async lastWindowKey(
    manager: EntityManager,
    model: string,
    version: number,
    analysis: 'drift' | 'performance',
  ): Promise<number | null> {
    const row = await queryOne<{ key: string | null }>(
      manager,
      `SELECT max(window_key)::text AS key FROM ${this.t.evaluated_windows} WHERE model = $1 AND version = $2 AND analysis = $3`,
      [model, version, analysis],
    );
    return row?.key === null || row?.key === undefined ? null : Number(row.key);
  }

  /** Records a judged window; false when it was judged before (its events were already sent). */
  async markEvaluated(
    manager: EntityManager,
    window: {
      model: string;
      version: number;
      analysis: 'drift' | 'performance';
      arm?: string;
      key: number;
      start: string;
      end: string;
      outcome: unknown;
    },
  ): Promise<boolean> {
    const rows = await query<{ window_key: string }>(
      manager,
      `INSERT INTO ${this.t.evaluated_windows} (model, version, analysis, arm, window_key, window_start, window_end, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING window_key`,
      [
        window.model,
        window.version,
        window.analysis,
        window.arm ?? '',
        window.key,
        window.start,
        window.end,
        JSON.stringify(window.outcome),
      ],
    );
    return rows.length > 0;
  }
}
