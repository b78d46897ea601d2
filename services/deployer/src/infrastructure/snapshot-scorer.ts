import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Result, err, ok } from '@mlops/core';
import type { RowError } from '../domain/rows';
import type { SnapshotError } from '../domain/snapshot-rows';
import type { LoadedModel, OutputColumns } from './loaded-model';
import type { FromWorker, ToWorker } from './snapshot-scoring.worker';

export interface SnapshotScoring<T> {
  /** What the writer made of the scores file (one NDJSON line per row: entity_id, event_time, score, label, probabilities). */
  readonly written: T;
  readonly rows: number;
}

/** Writes the scores file as it comes, chunk by chunk (say, to the artifact store). */
export type ScoresWriter<T> = (scores: AsyncIterable<Uint8Array>) => Promise<T>;

export interface ScoringProgress {
  /** Lines in the snapshot, known before the first chunk runs. */
  onTotal(lines: number): void;
  onScored(rows: number): void;
}

/** Idle workers kept for the next job (a new one costs tens of milliseconds to start). */
const MAX_IDLE = 1;

/**
 * Scores a snapshot in a pipeline over two threads: a worker parses and encodes chunks (and writes their scores),
 * this thread runs the session on them as they come, one at a time, so an online request waits at most one chunk.
 * The rows go through the same parsing and encoding as before (domain/snapshot-rows, domain/rows), and the same run
 * as online requests, so the answers equal online scoring. A run that throws rejects; a line that cannot be scored
 * is the result's error, reported after the chunks before it ran (as a single thread would).
 */
export class SnapshotScorer {
  private readonly idle: Worker[] = [];
  private readonly busy = new Set<Worker>();
  private closed = false;

  constructor(private readonly script = join(__dirname, 'snapshot-scoring.worker.js')) {}

  /** Starts a worker ahead of the first job. */
  warm(): void {
    if (!this.closed && this.idle.length === 0) this.idle.push(this.spawn());
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.busy];
    this.idle.length = 0;
    this.busy.clear();
    await Promise.all(all.map((worker) => worker.terminate()));
  }

  async score<T>(
    loaded: LoadedModel,
    bytes: Uint8Array,
    chunkRows: number,
    progress: ScoringProgress,
    write: ScoresWriter<T>,
  ): Promise<Result<SnapshotScoring<T>, SnapshotError | RowError>> {
    if (this.closed) throw new Error('the batch scoring workers are closed');
    const worker = this.idle.pop() ?? this.spawn();
    this.busy.add(worker);
    let healthy = false;
    try {
      // The file is written while the chunks run: when the last one ends, only its tail is left to write.
      const scores = new ByteQueue();
      const written = write(scores);
      // Awaited below unless the scoring fails first; never left to reject unhandled.
      written.catch(() => undefined);
      let scored: Result<number, SnapshotError | RowError>;
      try {
        scored = await this.run(worker, loaded, bytes, chunkRows, progress, scores);
      } catch (error) {
        scores.fail(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }
      healthy = true;
      if (!scored.ok) {
        scores.fail(new Error('batch scoring stopped'));
        return scored;
      }
      scores.end();
      return ok({ written: await written, rows: scored.value });
    } finally {
      this.busy.delete(worker);
      // A worker left mid-job (a run failed) still holds that job: it is not reused.
      if (healthy && !this.closed && this.idle.length < MAX_IDLE) this.idle.push(worker);
      else void worker.terminate();
    }
  }

  private spawn(): Worker {
    // A young generation large enough that a chunk's short-lived strings die there (the default scavenges often).
    const worker = new Worker(this.script, { resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    worker.unref();
    return worker;
  }

  private run(
    worker: Worker,
    loaded: LoadedModel,
    bytes: Uint8Array,
    chunkRows: number,
    progress: ScoringProgress,
    scores: ByteQueue,
  ): Promise<Result<number, SnapshotError | RowError>> {
    return new Promise((resolve, reject) => {
      const queue: FromWorker[] = [];
      let draining = false;
      let settled = false;
      const cleanup = (): void => {
        settled = true;
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const settle = (result: Result<number, SnapshotError | RowError>): void => {
        if (settled) return;
        cleanup();
        resolve(result);
      };
      const fail = (error: unknown): void => {
        if (settled) return;
        cleanup();
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      // In order, one at a time: a chunk runs only after the one before it answered.
      const drain = async (): Promise<void> => {
        if (draining) return;
        draining = true;
        try {
          while (queue.length > 0 && !settled) {
            const message = queue.shift() as FromWorker;
            if (message.type === 'total') progress.onTotal(message.lines);
            else if (message.type === 'failed') settle(err(message.error));
            else if (message.type === 'output') scores.push(message.bytes);
            else if (message.type === 'done') settle(ok(message.rows));
            else {
              const columns: OutputColumns = await loaded.predictColumns({
                rows: message.rows,
                numeric: message.numeric,
                categorical: message.categorical,
                missing: [],
              });
              worker.postMessage({
                type: 'scores',
                chunk: message.chunk,
                columns: {
                  rows: columns.rows,
                  scores: columns.scores,
                  labels: columns.labels,
                  probabilities: columns.probabilities,
                  classes: columns.classes,
                },
              } satisfies ToWorker);
              progress.onScored(message.rows);
            }
          }
        } catch (error) {
          fail(error);
        } finally {
          draining = false;
        }
      };
      const onMessage = (message: FromWorker): void => {
        queue.push(message);
        void drain();
      };
      const onError = (error: Error): void => fail(error);
      const onExit = (code: number): void => fail(new Error(`the batch scoring worker exited with code ${code}`));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      // The bytes move to the worker when they own their buffer; else they are copied.
      const own =
        bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
      const sent = own ? bytes : new Uint8Array(bytes);
      worker.postMessage({ type: 'job', bytes: sent, signature: loaded.signature, chunkRows } satisfies ToWorker, [
        sent.buffer as ArrayBuffer,
      ]);
    });
  }
}

/** Bytes handed from one side to the other as an async iterable: pushed as they come, ended, or failed. */
class ByteQueue implements AsyncIterable<Uint8Array> {
  private readonly items: Uint8Array[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  push(bytes: Uint8Array): void {
    this.items.push(bytes);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(error: Error): void {
    this.failure = error;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.items.shift();
      if (next !== undefined) yield next;
      else if (this.ended) return;
      else {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    }
  }
}
