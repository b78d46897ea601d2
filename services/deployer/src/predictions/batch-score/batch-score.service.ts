import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type ArtifactStore, verifyDigest } from '@mlops/artifacts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { DeployerConfig } from '../../config';
import { encodeRows } from '../../domain/rows';
import { parseSnapshotLines } from '../../domain/snapshot-rows';
import type { LoadedModel } from '../../infrastructure/loaded-model';
import { type ResolveError, ServingTable } from '../../infrastructure/serving-table';
import { ARTIFACT_STORE, DEPLOYER_CONFIG } from '../../tokens';

export interface BatchScoreJob {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly input: { readonly uri: string; readonly sha256: string };
  status: 'running' | 'succeeded' | 'failed';
  rowsTotal: number | null;
  rowsScored: number;
  result: { uri: string; sha256: string; sizeBytes: number; rows: number } | null;
  error: { code: string; message: string } | null;
  readonly startedAt: string;
  finishedAt: string | null;
}

const MAX_JOBS = 100;

/**
 * Batch scoring of a snapshot (feature-store's NDJSON) with a served version: chunks of BATCH_SCORING_CHUNK_ROWS
 * rows in one session run each, yielding to the event loop between chunks so an online request waits at most one
 * chunk; the scores go to the artifact store as NDJSON (entity_id, event_time, score, label, probabilities). Jobs
 * live in this replica's memory (GET /batch-scores/:id).
 */
@Injectable()
export class BatchScoreService {
  private readonly logger = new Logger('batch-scoring');
  private readonly jobs = new Map<string, BatchScoreJob>();

  constructor(
    private readonly table: ServingTable,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(DEPLOYER_CONFIG) private readonly config: DeployerConfig,
  ) {}

  start(model: string, version: number, input: { uri: string; sha256: string }): Result<BatchScoreJob, ResolveError> {
    const resolved = this.table.resolve(model, undefined, version);
    if (!resolved.ok) return resolved;
    const job: BatchScoreJob = {
      id: randomUUID(),
      model,
      version,
      input,
      status: 'running',
      rowsTotal: null,
      rowsScored: 0,
      result: null,
      error: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    if (this.jobs.size >= MAX_JOBS) {
      const oldest = [...this.jobs.values()].find((other) => other.status !== 'running');
      if (oldest) this.jobs.delete(oldest.id);
    }
    this.jobs.set(job.id, job);
    void this.run(job, resolved.value);
    return ok(job);
  }

  find(id: string): Result<BatchScoreJob, DomainError<'job_not_found'>> {
    const job = this.jobs.get(id);
    return job ? ok(job) : err(domainError('job_not_found', `no batch scoring job ${id} on this replica`));
  }

  private async run(job: BatchScoreJob, loaded: LoadedModel): Promise<void> {
    const fail = (code: string, message: string): void => {
      job.status = 'failed';
      job.error = { code, message };
      job.finishedAt = new Date().toISOString();
      this.logger.warn(`job ${job.id} (${loaded.describe()}) failed: ${code}: ${message}`);
    };
    try {
      const bytes = await this.artifacts.get(job.input.uri);
      verifyDigest(job.input.uri, job.input.sha256, bytes);
      const lines = bytes.toString('utf8').split('\n');
      if (lines.at(-1) === '') lines.pop();
      job.rowsTotal = lines.length;
      const out: string[] = [];
      const chunk = this.config.BATCH_SCORING_CHUNK_ROWS;
      for (let start = 0; start < lines.length; start += chunk) {
        const rows = parseSnapshotLines(loaded.signature, lines.slice(start, start + chunk), start);
        if (!rows.ok) return fail(rows.error.kind, rows.error.message);
        const encoded = encodeRows(
          loaded.signature,
          rows.value.map((row) => row.features),
        );
        if (!encoded.ok) return fail(encoded.error.kind, encoded.error.message);
        const outputs = await loaded.predict(encoded.value);
        rows.value.forEach((row, i) => {
          const output = outputs[i];
          out.push(
            JSON.stringify({
              entity_id: row.entityId,
              event_time: row.eventTime,
              score: output?.score,
              label: output?.label ?? null,
              probabilities: output?.probabilities ?? null,
            }),
          );
        });
        job.rowsScored += rows.value.length;
        // session.run blocks the thread: between chunks the online requests that arrived meanwhile go first.
        await yieldToEventLoop();
      }
      const stored = await this.artifacts.put(Buffer.from(out.length > 0 ? `${out.join('\n')}\n` : ''), {
        mediaType: 'application/x-ndjson',
        name: `scores-${job.model}-v${job.version}.ndjson`,
      });
      job.result = { uri: stored.uri, sha256: stored.sha256, sizeBytes: stored.sizeBytes, rows: out.length };
      job.status = 'succeeded';
      job.finishedAt = new Date().toISOString();
    } catch (error) {
      fail(
        (error as Error).name === 'ArtifactIntegrityError' ? 'sha256_mismatch' : 'batch_scoring_failed',
        (error as Error).message,
      );
    }
  }
}
