import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { type ArtifactStore, digestOf, verifyDigest } from '@mlops/artifacts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type BatchScoredV1, EventTypes, type FeaturesExportedV1 } from '@mlops/contracts';
import { enqueueInOutbox, newEvent } from '@mlops/messaging';
import { POSTGRES, execute, query, queryOne } from '@mlops/storage';
import type { DeployerConfig } from '../../config';
import { announce } from '../../infrastructure/announce';
import type { LoadedModel } from '../../infrastructure/loaded-model';
import { type ResolveError, ServingTable } from '../../infrastructure/serving-table';
import { SnapshotScorer } from '../../infrastructure/snapshot-scorer';
import { deployerPgTables } from '../../infrastructure/tables';
import { ARTIFACT_STORE, DEPLOYER_CONFIG, INSTANCE_ID, PG_SCHEMA, SOURCE } from '../../tokens';

/** A stored file of rows: a snapshot, or the feature store's export of a time range. */
export interface RowsFile {
  readonly uri: string;
  readonly sha256: string;
}

/** What a job scores: a snapshot, or a feature view's offline rows with event time in [from, to). */
export type BatchInput =
  | ({ readonly kind: 'snapshot' } & RowsFile)
  | {
      readonly kind: 'range';
      readonly featureView: { readonly name: string; readonly version: number };
      readonly from: string;
      readonly to: string;
    };

export interface BatchScoreJob {
  /** The request id: a job is started once per id; for a range, the feature store's export id too. */
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly input: BatchInput;
  status: 'running' | 'succeeded' | 'failed';
  /** While running: waiting for the feature store's export (range input), or scoring. */
  phase: 'exporting' | 'scoring' | 'done';
  /** The rows file scored: the snapshot, or the export once the feature store made it. */
  rowsFile: RowsFile | null;
  rowsTotal: number | null;
  rowsScored: number;
  /** Runs of the job so far: 1, then one more each time a replica takes over a job whose replica went away. */
  attempts: number;
  /** Runs at most (BATCH_SCORING_MAX_ATTEMPTS of the replica that took the request). */
  readonly maxAttempts: number;
  result: { uri: string; sha256: string; sizeBytes: number; rows: number } | null;
  error: { code: string; message: string } | null;
  readonly startedAt: string;
  finishedAt: string | null;
}

export type StartError = ResolveError | DomainError<'request_id_conflict' | 'invalid_time_range'>;

/** Finished jobs kept in memory (every job is in Postgres too). */
const MAX_JOBS = 100;
const JOBS = deployerPgTables(PG_SCHEMA).batch_score_jobs;
/** A row's silence and orphaned time (JobRow), on Postgres's clock. */
const SILENCE = `(extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS silent_ms,
  (extract(epoch FROM now() - coalesce(released_at, heartbeat_at)) * 1000)::float8 AS orphaned_ms`;

interface JobRow {
  id: string;
  model: string;
  version: number;
  input: BatchInput;
  status: BatchScoreJob['status'];
  phase: BatchScoreJob['phase'];
  rows_file: RowsFile | null;
  rows_total: string | null;
  rows_scored: string;
  result: BatchScoreJob['result'];
  error: BatchScoreJob['error'];
  started_at: Date;
  finished_at: Date | null;
  instance_id: string;
  attempts: number;
  max_attempts: number;
  /** When the replica running it handed it over as it stopped (its heartbeat is then the epoch). */
  released_at: Date | null;
  /** Milliseconds since it was handed over, else since its last heartbeat: how long no replica has run it. */
  orphaned_ms: number;
  /** Milliseconds since the replica running it last wrote (Postgres's clock on both ends). */
  silent_ms: number;
}

/**
 * Batch scoring with a served version: chunks of BATCH_SCORING_CHUNK_ROWS rows in one session run each, parsed and
 * encoded by a worker thread while the previous chunk runs (infrastructure/snapshot-scorer), the event loop free
 * between chunks so an online request waits at most one chunk; the scores go to the artifact store as
 * NDJSON (entity_id, event_time, score, label, probabilities). The input is a snapshot, or a feature view's rows in
 * an event-time range: those are asked of the feature store (mlops.features.export.requested.v1, export id = job
 * id) and scored like a snapshot once it answers (mlops.features.exported.v1, read by ExportedListener).
 *
 * Jobs are rows in Postgres shared by the replicas: any replica answers GET /batch-scores/:id, and a request id seen
 * before (by any replica) returns its job. The replica running a job holds it in memory and writes its progress and
 * a heartbeat every BATCH_SCORING_HEARTBEAT_MS. A running job whose heartbeat is older than BATCH_SCORING_STALE_MS
 * lost its replica: a replica serving its version takes it over and scores its rows again from the start (a job
 * still waiting for its export asks the feature store again: an export is made once per id, so it gets the same
 * rows), up to BATCH_SCORING_MAX_ATTEMPTS runs; past them, or when no replica can (its version is served nowhere), it
 * is failed (replica_lost). A replica that stops hands its jobs over the same way, at once (replica_stopped if none
 * takes them). Every replica's heartbeat looks for such jobs, so none stays running for ever.
 */
@Injectable()
export class BatchScoreService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('batch-scoring');
  private readonly jobs = new Map<string, BatchScoreJob>();
  private readonly exportTimers = new Map<string, NodeJS.Timeout>();
  /** This replica's jobs whose row is behind their state in memory (an end not yet written, Postgres down). */
  private readonly behind = new Set<string>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** When finished jobs past BATCH_SCORING_RETENTION_MS were last deleted (ms since the epoch). */
  private lastSweep = 0;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  /** This replica's jobs whose end is being written. */
  private readonly ending = new Set<string>();
  private syncFailing = false;
  /** This replica is stopping: it takes over no job. */
  private closing = false;
  /** Jobs this replica handed over as it stopped, or that another replica took over: their end is not this one's. */
  private readonly released = new Set<string>();

  constructor(
    private readonly table: ServingTable,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(DEPLOYER_CONFIG) private readonly config: DeployerConfig,
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly scorer: SnapshotScorer,
    @Inject(INSTANCE_ID) private readonly instanceId: string,
  ) {}

  /** The first job does not wait for a worker thread to start; the heartbeat of this replica's jobs starts. */
  onApplicationBootstrap(): void {
    this.scorer.warm();
    this.heartbeat = setInterval(() => void this.sync(), this.config.BATCH_SCORING_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /**
   * Starts a job (or returns the one already started under this request id). A range without a feature view reads
   * the view the version was trained on.
   */
  async start(
    model: string,
    version: number,
    request: {
      requestId?: string;
      snapshot?: RowsFile;
      range?: { featureView?: { name: string; version: number }; from: string; to: string };
    },
  ): Promise<Result<BatchScoreJob, StartError>> {
    const resolved = this.table.resolve(model, undefined, version);
    if (!resolved.ok) return resolved;
    const input = inputOf(resolved.value, request);
    if (!input.ok) return input;
    const id = request.requestId ?? randomUUID();
    const mine = this.jobs.get(id);
    if (mine) return sameRequest(mine, model, version, input.value);
    const job: BatchScoreJob = {
      id,
      model,
      version,
      input: input.value,
      status: 'running',
      phase: input.value.kind === 'range' ? 'exporting' : 'scoring',
      rowsFile: input.value.kind === 'snapshot' ? { uri: input.value.uri, sha256: input.value.sha256 } : null,
      rowsTotal: null,
      rowsScored: 0,
      attempts: 1,
      maxAttempts: this.config.BATCH_SCORING_MAX_ATTEMPTS,
      result: null,
      error: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    const range = input.value.kind === 'range' ? input.value : undefined;
    // Held before the row commits, so an export answer that comes at once finds it. The row and the export request
    // are written in one transaction; a failed write throws (503) and leaves no job.
    this.remember(job);
    let created: boolean;
    try {
      created = await this.dataSource.transaction(async (manager) => {
        if (!(await this.insert(manager, job))) return false;
        if (range) await this.requestExport(manager, job.id, range);
        return true;
      });
    } catch (error) {
      this.jobs.delete(job.id);
      throw error;
    }
    if (!created) {
      // Another replica (or an earlier life of this one) took this request id first.
      this.jobs.delete(job.id);
      const existing = await this.load(id);
      if (!existing) throw new Error(`batch scoring job ${id} was neither created nor found`);
      return sameRequest(existing, model, version, input.value);
    }
    if (range) {
      this.awaitExport(job);
      return ok(job);
    }
    if (job.rowsFile) void this.score(job, job.rowsFile);
    return ok(job);
  }

  /** Fails the job (export_timeout) if the feature store has not answered its export within the configured time. */
  private awaitExport(job: BatchScoreJob): void {
    this.exportTimers.set(
      job.id,
      setTimeout(() => {
        // Only while it waits: a job already scoring its export is not timed out.
        if (job.phase === 'exporting')
          void this.fail(
            job,
            'export_timeout',
            `the feature store did not answer within ${this.config.BATCH_SCORING_EXPORT_TIMEOUT_MS} ms`,
          );
      }, this.config.BATCH_SCORING_EXPORT_TIMEOUT_MS).unref(),
    );
  }

  /** A job of any replica: this one's from memory, others' from Postgres (as of their last heartbeat). */
  async find(id: string): Promise<Result<BatchScoreJob, DomainError<'job_not_found'>>> {
    const mine = this.jobs.get(id);
    if (mine) return ok(mine);
    const job = await this.load(id);
    return job ? ok(job) : err(domainError('job_not_found', `no batch scoring job ${id}`));
  }

  /** The feature store's answer to an export: scores it, or fails the job with its reason. Others' are ignored. */
  onExported(answer: FeaturesExportedV1): void {
    const job = this.jobs.get(answer.exportId);
    if (!job || job.phase !== 'exporting' || job.status !== 'running') return;
    clearTimeout(this.exportTimers.get(job.id));
    this.exportTimers.delete(job.id);
    if (answer.status !== 'created' || !answer.export) {
      void this.fail(
        job,
        answer.error?.code ?? 'export_failed',
        answer.error?.message ?? 'the feature store made no export',
      );
      return;
    }
    job.phase = 'scoring';
    void this.sync();
    void this.score(job, { uri: answer.export.uri, sha256: answer.export.sha256 });
  }

  /**
   * Hands the jobs this replica runs over to the others (their work stops with it) and writes every job's last
   * state: first thing when the app closes (the app's module is destroyed before the platform's), while Postgres is
   * open.
   */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await Promise.all(
      [...this.jobs.values()].filter((job) => job.status === 'running').map((job) => this.release(job)),
    );
    await this.sync();
  }

  /**
   * A running job of this stopping replica, made silent at once (heartbeat at the epoch) so that another replica takes
   * it over at its next heartbeat; this replica's end of it is ignored. Postgres unreachable: it goes silent anyway.
   */
  private async release(job: BatchScoreJob): Promise<void> {
    this.released.add(job.id);
    this.jobs.delete(job.id);
    clearTimeout(this.exportTimers.get(job.id));
    this.exportTimers.delete(job.id);
    try {
      const handed = await execute(
        this.dataSource.manager,
        `UPDATE ${JOBS} SET heartbeat_at = 'epoch', released_at = now(), rows_scored = $3
         WHERE id = $1 AND instance_id = $2 AND status = 'running'`,
        [job.id, this.instanceId, job.rowsScored],
      );
      if (handed > 0) this.logger.log(`job ${job.id} (${job.model} v${job.version}) handed over: this replica stops`);
    } catch (error) {
      this.logger.warn(
        `job ${job.id} not handed over (another replica takes it once silent): ${(error as Error).message}`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const timer of this.exportTimers.values()) clearTimeout(timer);
    this.exportTimers.clear();
    await this.scorer.close();
  }

  private remember(job: BatchScoreJob): void {
    if (this.jobs.size >= MAX_JOBS) {
      const oldest = [...this.jobs.values()].find((other) => other.status !== 'running' && !this.behind.has(other.id));
      if (oldest) this.jobs.delete(oldest.id);
    }
    this.jobs.set(job.id, job);
  }

  /** Writes the job's row unless its id exists; whether it did. */
  private async insert(manager: EntityManager, job: BatchScoreJob): Promise<boolean> {
    const row = await queryOne<{ id: string }>(
      manager,
      `INSERT INTO ${JOBS} (id, model, version, input, status, phase, rows_file, started_at, instance_id, max_attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        job.id,
        job.model,
        job.version,
        JSON.stringify(job.input),
        job.status,
        job.phase,
        job.rowsFile ? JSON.stringify(job.rowsFile) : null,
        job.startedAt,
        this.instanceId,
        job.maxAttempts,
      ],
    );
    return row !== undefined;
  }

  /** A job's row, with how long the replica running it has been silent. */
  private row(id: string): Promise<JobRow | undefined> {
    return queryOne<JobRow>(this.dataSource.manager, `SELECT *, ${SILENCE} FROM ${JOBS} WHERE id = $1`, [id]);
  }

  /** A job as its row says, a silent one settled (settleStale). */
  private async load(id: string): Promise<BatchScoreJob | undefined> {
    const row = await this.row(id);
    return row ? this.settleStale(row) : undefined;
  }

  /**
   * A job as its row says. A running one whose replica has been silent past BATCH_SCORING_STALE_MS lost that
   * replica: this replica takes it over if it can (takeOver); else it is failed (replica_lost, or replica_stopped for
   * one handed over by a stopping replica), in the row too, once no replica can take it over: its runs are used up,
   * or it has been silent twice the stale time (no replica serving its version took it).
   */
  private async settleStale(row: JobRow): Promise<BatchScoreJob> {
    const job = jobOf(row);
    const stale = this.config.BATCH_SCORING_STALE_MS;
    if (job.status !== 'running' || row.silent_ms <= stale) return job;
    if (this.canTakeOver(job)) {
      const taken = await this.takeOver(job);
      if (taken) return taken;
      // Another replica took it first, or its replica came back.
      const now = await this.row(job.id);
      return now ? jobOf(now) : job;
    }
    const handedOver = row.released_at !== null;
    // A replica serving its version may still take it: for the stale time after a hand-over, twice after a silence.
    const othersMay =
      resumable(job) && job.attempts < job.maxAttempts && row.orphaned_ms <= (handedOver ? stale : 2 * stale);
    if (othersMay) return job;
    const error = handedOver
      ? {
          code: 'replica_stopped',
          message: 'the deployer replica running this job stopped, and no replica took it over',
        }
      : {
          code: 'replica_lost',
          message:
            job.attempts >= job.maxAttempts
              ? `the deployer replica running this job has not been heard from for ${Math.round(row.silent_ms / 1000)} s (run ${job.attempts} of ${job.maxAttempts})`
              : `the deployer replica running this job has not been heard from for ${Math.round(row.silent_ms / 1000)} s, and no replica took it over`,
        };
    // Only if it is still the silent run seen here: a replica that came back meanwhile keeps it, a run that took it
    // over meanwhile is not failed for its predecessor's silence.
    const failed = await queryOne<JobRow>(
      this.dataSource.manager,
      `UPDATE ${JOBS} SET status = 'failed', phase = 'done', error = $2, finished_at = now()
       WHERE id = $1 AND status = 'running' AND attempts = $4
         AND heartbeat_at <= now() - make_interval(secs => $3::float8 / 1000)
       RETURNING *, 0::float8 AS silent_ms, 0::float8 AS orphaned_ms`,
      [job.id, JSON.stringify(error), stale, job.attempts],
    );
    // Another reader settled it first, or its replica came back: read again.
    if (!failed) return (await this.load(job.id)) ?? job;
    this.logger.warn(`job ${job.id} (${job.model} v${job.version}) failed: ${error.code}`);
    const lost = jobOf(failed);
    this.announceEnd(lost);
    return lost;
  }

  /** A silent job this replica can run again: it can be resumed, has runs left, and its version is served here. */
  private canTakeOver(job: BatchScoreJob): boolean {
    return (
      !this.closing &&
      resumable(job) &&
      job.attempts < job.maxAttempts &&
      this.table.resolve(job.model, undefined, job.version).ok
    );
  }

  /**
   * Claims a silent job for this replica and scores its rows again from the start, as a new run (one still waiting for
   * its export asks for it again: the feature store answers a known export id with the same rows); the job as claimed,
   * or undefined when another replica (or another path of this one) had it first. One claim per silent run: the row's
   * update is conditional on its silence and on the run seen silent (its attempt), so a claim that is itself silent
   * for a moment is not claimed again on an older reading of the row.
   */
  private async takeOver(job: BatchScoreJob): Promise<BatchScoreJob | undefined> {
    const claimed = await queryOne<JobRow>(
      this.dataSource.manager,
      `UPDATE ${JOBS}
       SET instance_id = $2, attempts = attempts + 1, heartbeat_at = now(), released_at = NULL, rows_scored = 0,
           rows_total = NULL
       WHERE id = $1 AND status = 'running'
         AND ((phase = 'scoring' AND rows_file IS NOT NULL) OR (phase = 'exporting' AND input->>'kind' = 'range'))
         AND attempts = $4 AND attempts < max_attempts
         AND heartbeat_at <= now() - make_interval(secs => $3::float8 / 1000)
       RETURNING *, 0::float8 AS silent_ms, 0::float8 AS orphaned_ms`,
      [job.id, this.instanceId, this.config.BATCH_SCORING_STALE_MS, job.attempts],
    );
    if (!claimed) return undefined;
    const taken = jobOf(claimed);
    this.released.delete(taken.id);
    this.remember(taken);
    this.logger.warn(
      `job ${taken.id} (${taken.model} v${taken.version}) taken over: its replica went silent; run ${taken.attempts} of ${taken.maxAttempts}`,
    );
    if (taken.phase === 'exporting' && taken.input.kind === 'range') {
      const range = taken.input;
      this.awaitExport(taken);
      try {
        await this.dataSource.transaction((manager) => this.requestExport(manager, taken.id, range));
      } catch (error) {
        // The claim stands and the row says so: the export asked again is this run's to make.
        await this.fail(taken, 'export_failed', `the export could not be asked again: ${(error as Error).message}`);
      }
    } else void this.score(taken, taken.rowsFile as RowsFile);
    return taken;
  }

  /** The silent running jobs of any replica, settled (taken over or failed): every heartbeat, a few at a time. */
  private async settleSilentJobs(): Promise<void> {
    const silent = await query<JobRow>(
      this.dataSource.manager,
      `SELECT *, ${SILENCE} FROM ${JOBS}
       WHERE status = 'running' AND heartbeat_at <= now() - make_interval(secs => $1::float8 / 1000)
       ORDER BY heartbeat_at LIMIT 20`,
      [this.config.BATCH_SCORING_STALE_MS],
    );
    for (const row of silent) if (!this.jobs.has(row.id)) await this.settleStale(row);
  }

  /**
   * The row of a job of this replica is no longer running: another replica declared it lost while this one was
   * silent (a long pause, Postgres unreachable). That verdict stands, here too: whatever this replica made of the job
   * since is dropped, so every replica answers the same.
   */
  private async adoptVerdict(job: BatchScoreJob): Promise<void> {
    this.behind.delete(job.id);
    if (this.ending.has(job.id)) return;
    const row = await this.row(job.id);
    if (row && row.instance_id !== this.instanceId) {
      // Taken over by another replica while this one was silent: its run answers from now on (from Postgres).
      if (this.jobs.get(job.id) === job) this.jobs.delete(job.id);
      this.released.add(job.id);
      this.logger.warn(`job ${job.id} was taken over by another replica while this one was silent: its run stands`);
      return;
    }
    if (!row || row.status === 'running') return;
    const verdict = jobOf(row);
    this.logger.warn(`job ${job.id} was declared ${verdict.error?.code ?? verdict.status} by another replica`);
    Object.assign(job, {
      status: verdict.status,
      phase: verdict.phase,
      result: verdict.result,
      error: verdict.error,
      finishedAt: verdict.finishedAt,
    });
  }

  /**
   * Writes the progress and heartbeat of this replica's running jobs, and the jobs whose row is behind; one pass at a
   * time, and one more after it when called during it (its change may come after the pass wrote that job).
   */
  private sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.writeJobs();
      } while (this.syncAgain);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async writeJobs(): Promise<void> {
    try {
      for (const job of this.jobs.values()) {
        if ((job.status !== 'running' && !this.behind.has(job.id)) || this.ending.has(job.id)) continue;
        if ((await this.writeRow(job)) === 0) await this.adoptVerdict(job);
        else if (job.status !== 'running') this.behind.delete(job.id);
      }
      await this.settleSilentJobs();
      await this.sweep();
      if (this.syncFailing) this.logger.log('batch scoring jobs written to Postgres again');
      this.syncFailing = false;
    } catch (error) {
      if (!this.syncFailing)
        this.logger.warn(`batch scoring jobs not written (retried every heartbeat): ${(error as Error).message}`);
      this.syncFailing = true;
    }
  }

  /**
   * Deletes the jobs that finished more than BATCH_SCORING_RETENTION_MS ago, rows and this replica's memory, at most
   * every half retention (and at least hourly); their scores files stay in the artifact store.
   */
  private async sweep(): Promise<void> {
    const retention = this.config.BATCH_SCORING_RETENTION_MS;
    const now = Date.now();
    if (now - this.lastSweep < Math.min(retention / 2, 3_600_000)) return;
    this.lastSweep = now;
    for (const job of this.jobs.values())
      if (job.finishedAt !== null && !this.behind.has(job.id) && now - Date.parse(job.finishedAt) > retention)
        this.jobs.delete(job.id);
    await execute(
      this.dataSource.manager,
      `DELETE FROM ${JOBS}
       WHERE status <> 'running' AND finished_at < now() - make_interval(secs => $1::float8 / 1000)`,
      [retention],
    );
  }

  private async requestExport(
    manager: EntityManager,
    exportId: string,
    range: Extract<BatchInput, { kind: 'range' }>,
  ): Promise<void> {
    const event = newEvent(
      EventTypes.FeaturesExportRequestedV1,
      {
        exportId,
        featureView: { name: range.featureView.name, version: range.featureView.version },
        timeRange: { start: range.from, end: range.to },
        requestedBy: 'deployer',
        requestedAt: new Date().toISOString(),
      },
      { source: SOURCE, subject: exportId },
    );
    await enqueueInOutbox(manager, PG_SCHEMA, event);
  }

  private fail(job: BatchScoreJob, code: string, message: string): Promise<void> {
    return this.end(job, { status: 'failed', result: null, error: { code, message } });
  }

  /**
   * Ends a job of this replica: its row is written first, only if it still runs, and then the job answers so here;
   * a row another replica ended meanwhile (replica_lost) gives its verdict instead. Postgres unreachable: the job
   * ends here and its row is written by a later heartbeat.
   */
  private async end(
    job: BatchScoreJob,
    outcome: Pick<BatchScoreJob, 'result' | 'error'> & { status: 'succeeded' | 'failed' },
  ): Promise<void> {
    if (job.status !== 'running' || this.ending.has(job.id) || this.released.has(job.id)) return;
    this.ending.add(job.id);
    const ended: BatchScoreJob = { ...job, ...outcome, phase: 'done', finishedAt: new Date().toISOString() };
    try {
      if ((await this.writeRow(ended)) === 0) {
        this.ending.delete(job.id);
        await this.adoptVerdict(job);
        return;
      }
    } catch (error) {
      this.behind.add(job.id);
      this.logger.warn(`job ${job.id}'s end not written yet (retried every heartbeat): ${(error as Error).message}`);
    }
    this.ending.delete(job.id);
    Object.assign(job, {
      status: ended.status,
      phase: ended.phase,
      result: ended.result,
      error: ended.error,
      finishedAt: ended.finishedAt,
    });
    if (job.error)
      this.logger.warn(`job ${job.id} (${job.model} v${job.version}) failed: ${job.error.code}: ${job.error.message}`);
    this.announceEnd(job);
  }

  /** Writes a job's state and heartbeat to its row if that row is this replica's and still runs; rows written. */
  private writeRow(job: BatchScoreJob): Promise<number> {
    return execute(
      this.dataSource.manager,
      `UPDATE ${JOBS}
       SET status = $2, phase = $3, rows_file = $4, rows_total = $5, rows_scored = $6, result = $7, error = $8,
           finished_at = $9, heartbeat_at = now()
       WHERE id = $1 AND instance_id = $10 AND status = 'running'`,
      [
        job.id,
        job.status,
        job.phase,
        job.rowsFile ? JSON.stringify(job.rowsFile) : null,
        job.rowsTotal,
        job.rowsScored,
        job.result ? JSON.stringify(job.result) : null,
        job.error ? JSON.stringify(job.error) : null,
        job.finishedAt,
        this.instanceId,
      ],
    );
  }

  /** mlops.batch.scored.v1 through the outbox, off the job's path (announce retries and logs what it cannot send). */
  private announceEnd(job: BatchScoreJob): void {
    const data: BatchScoredV1 = {
      jobId: job.id,
      model: job.model,
      version: job.version,
      input:
        job.input.kind === 'snapshot'
          ? { kind: 'snapshot', rows: { uri: job.input.uri, sha256: job.input.sha256 } }
          : {
              kind: 'range',
              featureView: { name: job.input.featureView.name, version: job.input.featureView.version },
              timeRange: { start: job.input.from, end: job.input.to },
              rows: job.rowsFile ? { uri: job.rowsFile.uri, sha256: job.rowsFile.sha256 } : null,
            },
      status: job.status === 'succeeded' ? 'succeeded' : 'failed',
      result: job.result ? { ...job.result } : null,
      error: job.error ? { ...job.error } : null,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt ?? new Date().toISOString(),
    };
    void announce(
      this.dataSource,
      this.logger,
      newEvent(EventTypes.BatchScoredV1, data, { source: SOURCE, subject: job.id }),
    );
  }

  private async score(job: BatchScoreJob, file: RowsFile): Promise<void> {
    job.rowsFile = file;
    // Resolved now, not at the request: a range waited for its export meanwhile.
    const resolved = this.table.resolve(job.model, undefined, job.version);
    if (!resolved.ok) return await this.fail(job, resolved.error.kind, resolved.error.message);
    const loaded: LoadedModel = resolved.value;
    try {
      const bytes = await this.artifacts.get(file.uri);
      // The store verified the bytes against the digest in their address: hashed again only if the request's differs.
      if (digestOf(file.uri) !== file.sha256) verifyDigest(file.uri, file.sha256, bytes);
      const scored = await this.scorer.score(
        loaded,
        bytes,
        this.config.BATCH_SCORING_CHUNK_ROWS,
        { onTotal: (lines) => (job.rowsTotal = lines), onScored: (rows) => (job.rowsScored += rows) },
        (scores) =>
          this.artifacts.put(scores, {
            mediaType: 'application/x-ndjson',
            name: `scores-${job.model}-v${job.version}.ndjson`,
          }),
      );
      if (!scored.ok) return await this.fail(job, scored.error.kind, scored.error.message);
      const stored = scored.value.written;
      // Ended meanwhile (this replica stopping, or declared lost by another), the scores are not its result.
      await this.end(job, {
        status: 'succeeded',
        result: { uri: stored.uri, sha256: stored.sha256, sizeBytes: stored.sizeBytes, rows: scored.value.rows },
        error: null,
      });
    } catch (error) {
      await this.fail(
        job,
        (error as Error).name === 'ArtifactIntegrityError' ? 'sha256_mismatch' : 'batch_scoring_failed',
        (error as Error).message,
      );
    }
  }
}

/** Whether another run can pick a job up: scoring rows it knows, or waiting for the export of a range. */
function resumable(job: BatchScoreJob): boolean {
  return job.phase === 'scoring' ? job.rowsFile !== null : job.phase === 'exporting' && job.input.kind === 'range';
}

/** The job's input from the request: a snapshot, or a half-open range of the given (or the version's) view. */
function inputOf(
  loaded: LoadedModel,
  request: {
    snapshot?: RowsFile;
    range?: { featureView?: { name: string; version: number }; from: string; to: string };
  },
): Result<BatchInput, StartError> {
  if (request.snapshot) return ok({ kind: 'snapshot', uri: request.snapshot.uri, sha256: request.snapshot.sha256 });
  const range = request.range;
  if (!range) return err(domainError('invalid_time_range', 'a snapshot or a time range (from, to) is required'));
  if (!(Date.parse(range.from) < Date.parse(range.to)))
    return err(domainError('invalid_time_range', `from (${range.from}) must be before to (${range.to})`));
  const featureView = range.featureView ?? loaded.deployment.featureView;
  return ok({
    kind: 'range',
    featureView: { name: featureView.name, version: featureView.version },
    from: range.from,
    to: range.to,
  });
}

function sameInput(a: BatchInput, b: BatchInput): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The job of a request id seen before, if the request is the same; else the id's conflict. */
function sameRequest(
  job: BatchScoreJob,
  model: string,
  version: number,
  input: BatchInput,
): Result<BatchScoreJob, StartError> {
  if (job.model !== model || job.version !== version || !sameInput(job.input, input))
    return err(
      domainError('request_id_conflict', `request ${job.id} was already used for another batch scoring request`),
    );
  return ok(job);
}

/** A job from its row (jsonb keeps the input's keys in its own order: rebuilt in the order of `inputOf`). */
function jobOf(row: JobRow): BatchScoreJob {
  const input: BatchInput =
    row.input.kind === 'snapshot'
      ? { kind: 'snapshot', uri: row.input.uri, sha256: row.input.sha256 }
      : {
          kind: 'range',
          featureView: { name: row.input.featureView.name, version: row.input.featureView.version },
          from: row.input.from,
          to: row.input.to,
        };
  return {
    id: row.id,
    model: row.model,
    version: row.version,
    input,
    status: row.status,
    phase: row.phase,
    rowsFile: row.rows_file,
    rowsTotal: row.rows_total === null ? null : Number(row.rows_total),
    rowsScored: Number(row.rows_scored),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    result: row.result,
    error: row.error,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
  };
}
