// Batch scoring's reading and writing, in a worker thread: while the service's thread runs the session on one chunk,
// this one parses and encodes the next chunks and writes the scores of the previous ones (2 cores, one each).
import { parentPort } from 'node:worker_threads';
import type { RowError } from '../domain/rows';
import type { ServingSignature } from '../domain/signature';
import { type ScoreColumns, type SnapshotError, parseSnapshotColumns, scoreLines } from '../domain/snapshot-rows';

/** Chunks parsed ahead of the session: enough to keep it busy, few enough to bound the memory they hold. */
const AHEAD = 4;

export type ToWorker =
  | {
      readonly type: 'job';
      /** The snapshot's NDJSON bytes (already verified). */
      readonly bytes: Uint8Array;
      readonly signature: ServingSignature;
      readonly chunkRows: number;
    }
  | { readonly type: 'scores'; readonly chunk: number; readonly columns: ScoreColumns };

export type FromWorker =
  /** Lines in the snapshot (blank ones included), known before the first chunk. */
  | { readonly type: 'total'; readonly lines: number }
  /** A chunk's rows in the model's layout, to run; `missing` is left out (batch scoring does not write it). */
  | {
      readonly type: 'chunk';
      readonly chunk: number;
      readonly rows: number;
      readonly numeric: Float32Array | Float64Array;
      readonly categorical: Readonly<Record<string, string[]>>;
    }
  /** A line that cannot be scored: the job fails with it, after the chunks sent before it. */
  | { readonly type: 'failed'; readonly error: SnapshotError | RowError }
  /** The scores file's lines of a chunk, in order, as its scores come back. */
  | { readonly type: 'output'; readonly bytes: Uint8Array }
  /** Every chunk scored and written. */
  | { readonly type: 'done'; readonly rows: number };

interface Job {
  readonly text: string;
  readonly signature: ServingSignature;
  readonly chunkRows: number;
  /** Where the next chunk's first line starts in the text, and its line number (0-based). */
  position: number;
  line: number;
  lines: number;
  /** Chunks sent and not yet scored, by number: the rows whose scores come back. */
  readonly pending: Map<number, { readonly entityIds: string[]; readonly eventTimes: (string | null)[] }>;
  sent: number;
  rows: number;
  finished: boolean;
}

let job: Job | undefined;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

/** Lines as `text.split('\n')` counts them, less a last empty one (the file's final newline). */
function lineCount(text: string): number {
  let count = 0;
  let at = 0;
  for (;;) {
    const newline = text.indexOf('\n', at);
    if (newline < 0) return at < text.length ? count + 1 : count;
    count++;
    at = newline + 1;
  }
}

/** The next `count` lines from `job.position`. */
function nextLines(current: Job, count: number): string[] {
  const lines: string[] = [];
  while (lines.length < count && current.line + lines.length < current.lines) {
    const newline = current.text.indexOf('\n', current.position);
    const end = newline < 0 ? current.text.length : newline;
    lines.push(current.text.slice(current.position, end));
    current.position = end + 1;
  }
  return lines;
}

/** Parses and sends chunks until AHEAD of them wait for scores (or the snapshot ends). */
function pump(current: Job): void {
  while (!current.finished && current.pending.size < AHEAD && current.line < current.lines) {
    const firstLine = current.line;
    const lines = nextLines(current, current.chunkRows);
    current.line += lines.length;
    const parsed = parseSnapshotColumns(current.signature, lines, firstLine);
    if (!parsed.ok) return fail(current, parsed.error);
    const { rows, numeric, categorical, entityIds, eventTimes } = parsed.value;
    if (rows === 0) continue;
    const chunk = current.sent++;
    current.pending.set(chunk, { entityIds, eventTimes });
    post({ type: 'chunk', chunk, rows, numeric, categorical }, [numeric.buffer as ArrayBuffer]);
  }
  if (!current.finished && current.pending.size === 0 && current.line >= current.lines) {
    current.finished = true;
    job = undefined;
    post({ type: 'done', rows: current.rows });
  }
}

/** Bytes that own their whole buffer, so it can be transferred (a small Buffer shares the thread's pool). */
function ownBuffer(bytes: Buffer): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

function fail(current: Job, error: SnapshotError | RowError): void {
  current.finished = true;
  job = undefined;
  post({ type: 'failed', error });
}

parentPort?.on('message', (message: ToWorker) => {
  if (message.type === 'job') {
    const text = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength).toString('utf8');
    const lines = lineCount(text);
    job = {
      text,
      signature: message.signature,
      chunkRows: message.chunkRows,
      position: 0,
      line: 0,
      lines,
      pending: new Map(),
      sent: 0,
      rows: 0,
      finished: false,
    };
    post({ type: 'total', lines });
    pump(job);
    return;
  }
  const current = job;
  const rows = current?.pending.get(message.chunk);
  if (!current || !rows) return;
  current.pending.delete(message.chunk);
  const bytes = ownBuffer(Buffer.from(scoreLines(rows.entityIds, rows.eventTimes, message.columns), 'utf8'));
  post({ type: 'output', bytes }, [bytes.buffer as ArrayBuffer]);
  current.rows += rows.entityIds.length;
  pump(current);
});
