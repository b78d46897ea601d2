import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type ArtifactStore, digestOf, verifyDigest } from '@mlops/artifacts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type BatchScoredV1, EventTypes, type FeaturesExportedV1 } from '@mlops/contracts';
import { enqueueInOutbox, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import type { DeployerConfig } from '../../config';
import { announce } from '../../infrastructure/announce';
import type { LoadedModel } from '../../infrastructure/loaded-model';
import { type ResolveError, ServingTable } from '../../infrastructure/serving-table';
import { SnapshotScorer } from '../../infrastructure/snapshot-scorer';
import { ARTIFACT_STORE, DEPLOYER_CONFIG, PG_SCHEMA, SOURCE } from '../../tokens';

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
  result: { uri: string; sha256: string; sizeBytes: number; rows: number } | null;
  error: { code: string; message: string } | null;
  readonly startedAt: string;
  finishedAt: string | null;
}

export type StartError = ResolveError | DomainError<'request_id_conflict' | 'invalid_time_range'>;

const MAX_JOBS = 100;

/**
 * Batch scoring with a served version: chunks of BATCH_SCORING_CHUNK_ROWS rows in one session run each, parsed and
 * encoded by a worker thread while the previous chunk runs (infrastructure/snapshot-scorer), the event loop free
 * between chunks so an online request waits at most one chunk; the scores go to the artifact store as
 * NDJSON (entity_id, event_time, score, label, probabilities). The input is a snapshot, or a feature view's rows in
 * an event-time range: those are asked of the feature store (mlops.features.export.requested.v1, export id = job
 * id) and scored like a snapshot once it answers (mlops.features.exported.v1, read by ExportedListener). Jobs live
 * in this replica's memory (GET /batch-scores/:id); a request id seen before returns its job.
 */
@Injectable()
export class BatchScoreService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('batch-scoring');
  private readonly jobs = new Map<string, BatchScoreJob>();
  private readonly exportTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly table: ServingTable,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(DEPLOYER_CONFIG) private readonly config: DeployerConfig,
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly scorer: SnapshotScorer,
  ) {}

  /** The first job does not wait for a worker thread to start. */
  onApplicationBootstrap(): void {
    this.scorer.warm();
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
    const existing = this.jobs.get(id);
    if (existing) {
      if (existing.model !== model || existing.version !== version || !sameInput(existing.input, input.value))
        return err(
          domainError('request_id_conflict', `request ${id} was already used for another batch scoring request`),
        );
      return ok(existing);
    }
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
      result: null,
      error: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    if (input.value.kind === 'range') {
      // Registered before the request can be answered; a failed outbox write throws (503) and leaves no job.
      this.remember(job);
      try {
        await this.requestExport(job.id, input.value);
      } catch (error) {
        this.jobs.delete(job.id);
        throw error;
      }
      this.exportTimers.set(
        job.id,
        setTimeout(() => {
          // Only while it waits: a job already scoring its export is not timed out.
          if (job.phase === 'exporting')
            this.fail(
              job,
              'export_timeout',
              `the feature store did not answer within ${this.config.BATCH_SCORING_EXPORT_TIMEOUT_MS} ms`,
            );
        }, this.config.BATCH_SCORING_EXPORT_TIMEOUT_MS).unref(),
      );
      return ok(job);
    }
    this.remember(job);
    void this.score(job, { uri: input.value.uri, sha256: input.value.sha256 });
    return ok(job);
  }

  find(id: string): Result<BatchScoreJob, DomainError<'job_not_found'>> {
    const job = this.jobs.get(id);
    return job ? ok(job) : err(domainError('job_not_found', `no batch scoring job ${id} on this replica`));
  }

  /** The feature store's answer to an export: scores it, or fails the job with its reason. Others' are ignored. */
  onExported(answer: FeaturesExportedV1): void {
    const job = this.jobs.get(answer.exportId);
    if (!job || job.phase !== 'exporting' || job.status !== 'running') return;
    clearTimeout(this.exportTimers.get(job.id));
    this.exportTimers.delete(job.id);
    if (answer.status !== 'created' || !answer.export) {
      this.fail(
        job,
        answer.error?.code ?? 'export_failed',
        answer.error?.message ?? 'the feature store made no export',
      );
      return;
    }
    job.phase = 'scoring';
    void this.score(job, { uri: answer.export.uri, sha256: answer.export.sha256 });
  }

  async onApplicationShutdown(): Promise<void> {
    for (const timer of this.exportTimers.values()) clearTimeout(timer);
    this.exportTimers.clear();
    await this.scorer.close();
  }

  private remember(job: BatchScoreJob): void {
    if (this.jobs.size >= MAX_JOBS) {
      const oldest = [...this.jobs.values()].find((other) => other.status !== 'running');
      if (oldest) this.jobs.delete(oldest.id);
    }
    this.jobs.set(job.id, job);
  }

  private async requestExport(exportId: string, range: Extract<BatchInput, { kind: 'range' }>): Promise<void> {
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
    await this.dataSource.transaction((manager) => enqueueInOutbox(manager, PG_SCHEMA, event));
  }

  private fail(job: BatchScoreJob, code: string, message: string): void {
    if (job.status !== 'running') return;
    job.status = 'failed';
    job.phase = 'done';
    job.error = { code, message };
    job.finishedAt = new Date().toISOString();
    this.logger.warn(`job ${job.id} (${job.model} v${job.version}) failed: ${code}: ${message}`);
    this.announceEnd(job);
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
    if (!resolved.ok) return this.fail(job, resolved.error.kind, resolved.error.message);
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
      if (!scored.ok) return this.fail(job, scored.error.kind, scored.error.message);
      const stored = scored.value.written;
      job.result = { uri: stored.uri, sha256: stored.sha256, sizeBytes: stored.sizeBytes, rows: scored.value.rows };
      job.status = 'succeeded';
      job.phase = 'done';
      job.finishedAt = new Date().toISOString();
      this.announceEnd(job);
    } catch (error) {
      this.fail(
        job,
        (error as Error).name === 'ArtifactIntegrityError' ? 'sha256_mismatch' : 'batch_scoring_failed',
        (error as Error).message,
      );
    }
  }
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
