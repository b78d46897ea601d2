import type { DataSource, EntityManager } from 'typeorm';
import type { DatasetSnapshotCreatedV1, TrainingRequestedV1 } from '@mlops/contracts';
import { execute, query, queryOne, schemaOf } from '@mlops/storage';
import { type TrainerTables, trainerTables } from './tables';

export type RunStatus = 'waiting_for_snapshot' | 'training' | 'succeeded' | 'failed';

export interface RunFailure {
  readonly stage: 'snapshot' | 'training' | 'evaluation' | 'export' | 'publish';
  readonly errorCode: string;
  readonly message: string;
  readonly retryable: boolean;
}

export interface TrainingRun {
  readonly id: string;
  readonly model: string;
  readonly request: TrainingRequestedV1;
  readonly status: RunStatus;
  readonly progress: number;
  readonly snapshotId: string;
  readonly snapshot: DatasetSnapshotCreatedV1 | null;
  readonly attempt: number;
  readonly result: Record<string, unknown> | null;
  readonly failure: RunFailure | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

interface RunRow {
  id: string;
  model: string;
  request: TrainingRequestedV1;
  status: RunStatus;
  progress: number;
  snapshot_id: string;
  snapshot: DatasetSnapshotCreatedV1 | null;
  attempt: number;
  result: Record<string, unknown> | null;
  failure: RunFailure | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

function runOf(row: RunRow): TrainingRun {
  return {
    id: row.id,
    model: row.model,
    request: row.request,
    status: row.status,
    progress: row.progress,
    snapshotId: row.snapshot_id,
    snapshot: row.snapshot,
    attempt: row.attempt,
    result: row.result,
    failure: row.failure,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

/** Training runs in the trainer's Postgres schema. */
export class RunStore {
  private readonly tables: TrainerTables;

  constructor(readonly dataSource: DataSource) {
    this.tables = trainerTables(schemaOf(dataSource));
  }

  /** Creates the run; false when one with this id exists (a repeated request). */
  async create(manager: EntityManager, request: TrainingRequestedV1, snapshotId: string, now: Date): Promise<boolean> {
    const inserted = await query<{ id: string }>(
      manager,
      `INSERT INTO ${this.tables.training_runs} (id, model, request, status, snapshot_id, created_at, updated_at)
       VALUES ($1, $2, $3, 'waiting_for_snapshot', $4, $5, $5) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [request.trainingRunId, request.model, JSON.stringify(request), snapshotId, now],
    );
    return inserted.length === 1;
  }

  async find(manager: EntityManager, id: string, lock = false): Promise<TrainingRun | undefined> {
    const row = await queryOne<RunRow>(
      manager,
      `SELECT * FROM ${this.tables.training_runs} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return row && runOf(row);
  }

  /** The snapshot arrived: the run is ready for a trainer to claim. */
  async markTraining(manager: EntityManager, id: string, snapshot: DatasetSnapshotCreatedV1, now: Date): Promise<void> {
    await execute(
      manager,
      `UPDATE ${this.tables.training_runs} SET status = 'training', snapshot = $2, updated_at = $3, lease_owner = NULL, lease_until = NULL
       WHERE id = $1`,
      [id, JSON.stringify(snapshot), now],
    );
  }

  /**
   * Claims one run in 'training' that nobody holds (new, or whose holder stopped renewing its lease: a crash or
   * restart), counting the attempt. Replicas skip each other's rows.
   */
  async claim(owner: string, leaseMs: number): Promise<TrainingRun | undefined> {
    const rows = await query<RunRow>(
      this.dataSource.manager,
      `UPDATE ${this.tables.training_runs} SET lease_owner = $1, lease_until = now() + ($2 || ' milliseconds')::interval,
              attempt = attempt + 1, started_at = now(), updated_at = now(), progress = 0
       WHERE id = (SELECT id FROM ${this.tables.training_runs}
                   WHERE status = 'training' AND (lease_until IS NULL OR lease_until < now())
                   ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [owner, String(leaseMs)],
    );
    return rows[0] && runOf(rows[0]);
  }

  /** Renews the lease and records progress; false when the run is no longer ours. */
  async heartbeat(id: string, owner: string, leaseMs: number, progress: number): Promise<boolean> {
    const touched = await execute(
      this.dataSource.manager,
      `UPDATE ${this.tables.training_runs} SET lease_until = now() + ($3 || ' milliseconds')::interval, progress = $4, updated_at = now()
       WHERE id = $1 AND lease_owner = $2 AND status = 'training'`,
      [id, owner, String(leaseMs), progress],
    );
    return touched === 1;
  }

  /** Ends a run we hold; false when it is no longer ours (its lease lapsed and another trainer took it). */
  async finish(
    manager: EntityManager,
    id: string,
    owner: string | null,
    outcome: { status: 'succeeded'; result: Record<string, unknown> } | { status: 'failed'; failure: RunFailure },
    now: Date,
  ): Promise<boolean> {
    const touched = await execute(
      manager,
      `UPDATE ${this.tables.training_runs}
       SET status = $3, result = $4, failure = $5, progress = CASE WHEN $3 = 'succeeded' THEN 1 ELSE progress END,
           finished_at = $6, updated_at = $6, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND status IN ('training', 'waiting_for_snapshot') AND ($2::text IS NULL OR lease_owner = $2)`,
      [
        id,
        owner,
        outcome.status,
        outcome.status === 'succeeded' ? JSON.stringify(outcome.result) : null,
        outcome.status === 'failed' ? JSON.stringify(outcome.failure) : null,
        now,
      ],
    );
    return touched === 1;
  }
}
