import type { DataSource, EntityManager } from 'typeorm';
import { execute, query, queryOne, schemaOf } from '@mlops/storage';
import {
  type DatasetInput,
  type Experiment,
  type KeyValue,
  type LifecycleStage,
  type MetricPoint,
  type StoredArtifact,
  type TrackedRun,
  type TrackedRunInfo,
  type TrackedRunStatus,
  experimentArtifactLocation,
  latestPoints,
} from '../domain/tracking';
import { type TrainerTables, trainerTables } from './tables';

interface ExperimentRow {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  tags: Record<string, string>;
  created_by: string | null;
  creation_time: string;
  last_update_time: string;
}

interface RunRow {
  run_id: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: TrackedRunStatus;
  start_time: string;
  end_time: string | null;
  artifact_uri: string;
  lifecycle_stage: LifecycleStage;
  parent_run_id: string | null;
  training_run_id: string | null;
  reason: unknown;
}

interface MetricRow {
  run_id: string;
  key: string;
  value: number;
  timestamp: string;
  step: string;
}

const experimentOf = (row: ExperimentRow): Experiment => ({
  experimentId: row.experiment_id,
  name: row.name,
  artifactLocation: row.artifact_location,
  lifecycleStage: row.lifecycle_stage,
  tags: row.tags,
  createdBy: row.created_by,
  creationTime: Number(row.creation_time),
  lastUpdateTime: Number(row.last_update_time),
});

const runInfoOf = (row: RunRow): TrackedRunInfo => ({
  runId: row.run_id,
  experimentId: row.experiment_id,
  runName: row.run_name,
  userId: row.user_id,
  status: row.status,
  startTime: Number(row.start_time),
  endTime: row.end_time === null ? null : Number(row.end_time),
  artifactUri: row.artifact_uri,
  lifecycleStage: row.lifecycle_stage,
  parentRunId: row.parent_run_id,
  trainingRunId: row.training_run_id,
  reason: row.reason,
});

const pointOf = (row: MetricRow): MetricPoint => ({
  key: row.key,
  value: row.value,
  timestamp: Number(row.timestamp),
  step: Number(row.step),
});

export interface NewTrackedRun {
  readonly runId: string;
  readonly experimentId: string;
  readonly runName: string;
  readonly userId: string;
  readonly status: TrackedRunStatus;
  readonly startTime: number;
  readonly artifactUri: string;
  readonly parentRunId: string | null;
  readonly trainingRunId: string | null;
  readonly reason: unknown;
}

/** Experiments and tracked runs (params, metric history, tags, artifacts) in the trainer's Postgres schema. */
export class TrackingStore {
  private readonly tables: TrainerTables;
  private readonly sequence: string;

  constructor(readonly dataSource: DataSource) {
    const schema = schemaOf(dataSource);
    this.tables = trainerTables(schema);
    this.sequence = `"${schema}".experiment_ids`;
  }

  async experimentById(manager: EntityManager, id: string): Promise<Experiment | undefined> {
    const row = await queryOne<ExperimentRow>(
      manager,
      `SELECT * FROM ${this.tables.experiments} WHERE experiment_id = $1`,
      [id],
    );
    return row && experimentOf(row);
  }

  async experimentByName(manager: EntityManager, name: string): Promise<Experiment | undefined> {
    const row = await queryOne<ExperimentRow>(manager, `SELECT * FROM ${this.tables.experiments} WHERE name = $1`, [
      name,
    ]);
    return row && experimentOf(row);
  }

  async experiments(manager: EntityManager): Promise<Experiment[]> {
    const rows = await query<ExperimentRow>(
      manager,
      `SELECT * FROM ${this.tables.experiments} ORDER BY creation_time DESC, experiment_id DESC`,
    );
    return rows.map(experimentOf);
  }

  /** Creates the experiment; undefined when one of that name exists. */
  async createExperiment(
    manager: EntityManager,
    experiment: { name: string; artifactLocation?: string; tags: Record<string, string>; createdBy: string | null },
    now: number,
  ): Promise<string | undefined> {
    const [{ id } = { id: '' }] = await query<{ id: string }>(
      manager,
      `SELECT nextval('${this.sequence}')::text AS id`,
    );
    const rows = await query<{ experiment_id: string }>(
      manager,
      `INSERT INTO ${this.tables.experiments} (experiment_id, name, artifact_location, tags, created_by, creation_time, last_update_time)
       VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (name) DO NOTHING RETURNING experiment_id`,
      [
        id,
        experiment.name,
        experiment.artifactLocation ?? experimentArtifactLocation(id),
        JSON.stringify(experiment.tags),
        experiment.createdBy,
        now,
      ],
    );
    return rows[0]?.experiment_id;
  }

  /** The experiment of this name, created if absent (our own runs go to the experiment named after the model). */
  async ensureExperiment(manager: EntityManager, name: string, createdBy: string, now: number): Promise<Experiment> {
    const existing = await this.experimentByName(manager, name);
    if (existing) return existing;
    await this.createExperiment(manager, { name, tags: { 'mlops.model': name }, createdBy }, now);
    return (await this.experimentByName(manager, name)) as Experiment;
  }

  async setExperimentTag(manager: EntityManager, id: string, key: string, value: string, now: number): Promise<void> {
    await execute(
      manager,
      `UPDATE ${this.tables.experiments} SET tags = tags || jsonb_build_object($2::text, $3::text), last_update_time = $4
       WHERE experiment_id = $1`,
      [id, key, value, now],
    );
  }

  async createRun(manager: EntityManager, run: NewTrackedRun): Promise<boolean> {
    const rows = await query<{ run_id: string }>(
      manager,
      `INSERT INTO ${this.tables.tracked_runs}
         (run_id, experiment_id, run_name, user_id, status, start_time, artifact_uri, parent_run_id, training_run_id, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (run_id) DO NOTHING RETURNING run_id`,
      [
        run.runId,
        run.experimentId,
        run.runName,
        run.userId,
        run.status,
        run.startTime,
        run.artifactUri,
        run.parentRunId,
        run.trainingRunId,
        run.reason === undefined || run.reason === null ? null : JSON.stringify(run.reason),
      ],
    );
    return rows.length === 1;
  }

  async runInfo(manager: EntityManager, runId: string, lock = false): Promise<TrackedRunInfo | undefined> {
    const row = await queryOne<RunRow>(
      manager,
      `SELECT * FROM ${this.tables.tracked_runs} WHERE run_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [runId],
    );
    return row && runInfoOf(row);
  }

  async run(manager: EntityManager, runId: string): Promise<TrackedRun | undefined> {
    const row = await queryOne<RunRow>(manager, `SELECT * FROM ${this.tables.tracked_runs} WHERE run_id = $1`, [runId]);
    if (!row) return undefined;
    return (await this.withData(manager, [row]))[0];
  }

  /** Every run of these experiments (search filters and orders them in memory). */
  async runsOf(
    manager: EntityManager,
    experimentIds: readonly string[],
    stages: readonly LifecycleStage[],
  ): Promise<TrackedRun[]> {
    const rows = await query<RunRow>(
      manager,
      `SELECT * FROM ${this.tables.tracked_runs} WHERE experiment_id = ANY($1) AND lifecycle_stage = ANY($2)
       ORDER BY start_time DESC, run_id`,
      [experimentIds, stages],
    );
    return this.withData(manager, rows);
  }

  async childrenOf(manager: EntityManager, runId: string): Promise<TrackedRun[]> {
    const rows = await query<RunRow>(
      manager,
      `SELECT * FROM ${this.tables.tracked_runs} WHERE parent_run_id = $1 ORDER BY start_time, run_id`,
      [runId],
    );
    return this.withData(manager, rows);
  }

  private async withData(manager: EntityManager, rows: readonly RunRow[]): Promise<TrackedRun[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.run_id);
    const [params, tags, metrics, inputs] = await Promise.all([
      query<KeyValue & { run_id: string }>(
        manager,
        `SELECT run_id, key, value FROM ${this.tables.run_params} WHERE run_id = ANY($1) ORDER BY key`,
        [ids],
      ),
      query<KeyValue & { run_id: string }>(
        manager,
        `SELECT run_id, key, value FROM ${this.tables.run_tags} WHERE run_id = ANY($1) ORDER BY key`,
        [ids],
      ),
      query<MetricRow>(
        manager,
        `SELECT DISTINCT ON (run_id, key) run_id, key, value, timestamp, step FROM ${this.tables.run_metrics}
         WHERE run_id = ANY($1) ORDER BY run_id, key, step DESC, timestamp DESC, value DESC`,
        [ids],
      ),
      query<{ run_id: string; dataset: DatasetInput['dataset']; tags: KeyValue[] }>(
        manager,
        `SELECT run_id, dataset, tags FROM ${this.tables.run_inputs} WHERE run_id = ANY($1) ORDER BY logged_at`,
        [ids],
      ),
    ]);
    const byRun = <T extends { run_id: string }>(items: readonly T[]): Map<string, T[]> => {
      const map = new Map<string, T[]>();
      for (const item of items) map.set(item.run_id, [...(map.get(item.run_id) ?? []), item]);
      return map;
    };
    const paramsByRun = byRun(params);
    const tagsByRun = byRun(tags);
    const metricsByRun = byRun(metrics);
    const inputsByRun = byRun(inputs);
    const keyValues = (items: readonly KeyValue[] | undefined): KeyValue[] =>
      (items ?? []).map(({ key, value }) => ({ key, value }));
    return rows.map((row) => ({
      info: runInfoOf(row),
      params: keyValues(paramsByRun.get(row.run_id)),
      tags: keyValues(tagsByRun.get(row.run_id)),
      metrics: latestPoints((metricsByRun.get(row.run_id) ?? []).map(pointOf)),
      inputs: (inputsByRun.get(row.run_id) ?? []).map(({ dataset, tags }) => ({ dataset, tags: keyValues(tags) })),
    }));
  }

  /** Logs params; returns those already logged with another value (MLflow params are immutable). */
  async logParams(manager: EntityManager, runId: string, params: readonly KeyValue[]): Promise<KeyValue[]> {
    if (params.length === 0) return [];
    await execute(
      manager,
      `INSERT INTO ${this.tables.run_params} (run_id, key, value)
       SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS p(key, value) ON CONFLICT (run_id, key) DO NOTHING`,
      [runId, params.map((p) => p.key), params.map((p) => p.value)],
    );
    const stored = await query<KeyValue>(
      manager,
      `SELECT key, value FROM ${this.tables.run_params} WHERE run_id = $1 AND key = ANY($2)`,
      [runId, params.map((p) => p.key)],
    );
    const byKey = new Map(stored.map((p) => [p.key, p.value]));
    return params
      .filter((p) => byKey.get(p.key) !== p.value)
      .map((p) => ({ key: p.key, value: byKey.get(p.key) ?? '' }));
  }

  async logMetrics(manager: EntityManager, runId: string, metrics: readonly MetricPoint[]): Promise<void> {
    if (metrics.length === 0) return;
    await execute(
      manager,
      `INSERT INTO ${this.tables.run_metrics} (run_id, key, value, timestamp, step)
       SELECT $1, key, value, ts, step FROM unnest($2::text[], $3::float8[], $4::bigint[], $5::bigint[]) AS m(key, value, ts, step)`,
      [
        runId,
        metrics.map((m) => m.key),
        metrics.map((m) =>
          Number.isNaN(m.value)
            ? 'NaN'
            : m.value === Infinity
              ? 'Infinity'
              : m.value === -Infinity
                ? '-Infinity'
                : m.value,
        ),
        metrics.map((m) => m.timestamp),
        metrics.map((m) => m.step),
      ],
    );
  }

  async setTags(manager: EntityManager, runId: string, tags: readonly KeyValue[]): Promise<void> {
    if (tags.length === 0) return;
    // The last value of a key wins, as when MLflow sets tags one after the other.
    const last = new Map(tags.map((t) => [t.key, t.value]));
    await execute(
      manager,
      `INSERT INTO ${this.tables.run_tags} (run_id, key, value)
       SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS t(key, value)
       ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value`,
      [runId, [...last.keys()], [...last.values()]],
    );
  }

  /** Logs dataset inputs: a dataset logged again (same name and digest) keeps its place and takes the new tags. */
  async logInputs(manager: EntityManager, runId: string, inputs: readonly DatasetInput[], now: number): Promise<void> {
    for (const [i, input] of inputs.entries())
      await execute(
        manager,
        `INSERT INTO ${this.tables.run_inputs} (run_id, name, digest, dataset, tags, logged_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (run_id, name, digest) DO UPDATE SET dataset = EXCLUDED.dataset, tags = EXCLUDED.tags`,
        [
          runId,
          input.dataset.name,
          input.dataset.digest,
          JSON.stringify(input.dataset),
          JSON.stringify(input.tags),
          now * 1000 + i,
        ],
      );
  }

  async deleteTag(manager: EntityManager, runId: string, key: string): Promise<boolean> {
    return (
      (await execute(manager, `DELETE FROM ${this.tables.run_tags} WHERE run_id = $1 AND key = $2`, [runId, key])) === 1
    );
  }

  async updateRun(
    manager: EntityManager,
    runId: string,
    change: { status?: TrackedRunStatus; endTime?: number; runName?: string; lifecycleStage?: LifecycleStage },
  ): Promise<void> {
    await execute(
      manager,
      `UPDATE ${this.tables.tracked_runs}
       SET status = COALESCE($2, status), end_time = COALESCE($3, end_time), run_name = COALESCE($4, run_name),
           lifecycle_stage = COALESCE($5, lifecycle_stage)
       WHERE run_id = $1`,
      [runId, change.status ?? null, change.endTime ?? null, change.runName ?? null, change.lifecycleStage ?? null],
    );
  }

  async metricHistory(manager: EntityManager, runId: string, key: string): Promise<MetricPoint[]> {
    const rows = await query<MetricRow>(
      manager,
      `SELECT run_id, key, value, timestamp, step FROM ${this.tables.run_metrics} WHERE run_id = $1 AND key = $2
       ORDER BY step, timestamp, seq`,
      [runId, key],
    );
    return rows.map(pointOf);
  }

  async putArtifact(manager: EntityManager, runId: string, artifact: StoredArtifact, now: Date): Promise<void> {
    await execute(
      manager,
      `INSERT INTO ${this.tables.run_artifacts} (run_id, path, uri, sha256, size_bytes, media_type, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (run_id, path) DO UPDATE SET uri = EXCLUDED.uri, sha256 = EXCLUDED.sha256,
         size_bytes = EXCLUDED.size_bytes, media_type = EXCLUDED.media_type, created_at = EXCLUDED.created_at`,
      [runId, artifact.path, artifact.uri, artifact.sha256, artifact.sizeBytes, artifact.mediaType, now],
    );
  }

  async artifactsOf(manager: EntityManager, runId: string): Promise<StoredArtifact[]> {
    const rows = await query<{ path: string; uri: string; sha256: string; size_bytes: string; media_type: string }>(
      manager,
      `SELECT path, uri, sha256, size_bytes, media_type FROM ${this.tables.run_artifacts} WHERE run_id = $1 ORDER BY path`,
      [runId],
    );
    return rows.map((row) => ({
      path: row.path,
      uri: row.uri,
      sha256: row.sha256,
      sizeBytes: Number(row.size_bytes),
      mediaType: row.media_type,
    }));
  }
}
