import * as ort from 'onnxruntime-node';
import { type EncodedRows, type RowOutput, concatRows } from '../domain/rows';
import type { TreeExplainers } from '../domain/explain';
import type { GraphValue, ServingSignature } from '../domain/signature';

/** Coalescing of concurrent requests for one version into one session run. */
export interface BatchingOptions {
  readonly enabled: boolean;
  /** How long the first request of a batch waits for others; 0 = the requests that arrived in the same turn. */
  readonly maxWaitMs: number;
  /** Most rows in one coalesced run; a request this big runs on its own. */
  readonly maxRows: number;
}

/** Which deployment a loaded model is. */
export interface DeploymentInfo {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly artifactUri: string;
  readonly artifactSha256: string;
  readonly featureView: { readonly name: string; readonly version: number };
  readonly promotedSignature: {
    readonly inputName: string;
    readonly inputDtype: 'float32' | 'float64';
    readonly featureNames: readonly string[];
    readonly outputName: string;
  };
  readonly servingSince: string;
  /** CloudEvents id of the promotion that deployed it. */
  readonly promotionEventId: string;
}

interface Waiting {
  readonly rows: EncodedRows;
  readonly resolve: (outputs: RowOutput[]) => void;
  readonly reject: (error: unknown) => void;
}

/** Session options for a 2-core machine: one thread each, and threads that sleep rather than spin when idle. */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

export async function createSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, SESSION_OPTIONS);
}

/** The graph's inputs and outputs as the runtime reports them. */
export function graphOf(session: ort.InferenceSession): { inputs: GraphValue[]; outputs: GraphValue[] } {
  const describe = (metadata: readonly ort.InferenceSession.ValueMetadata[]): GraphValue[] =>
    metadata.map((value) =>
      value.isTensor
        ? { name: value.name, type: value.type, shape: [...value.shape] }
        : { name: value.name, type: null, shape: [] },
    );
  return { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
}

/**
 * What a run answered, column by column (batch scoring reads these without building an object per row): the score
 * per row, the label per row (binary models) and `classes` probabilities per row (classifiers).
 */
export interface OutputColumns {
  readonly rows: number;
  readonly scores: Float32Array | Float64Array;
  readonly labels: BigInt64Array | Float32Array | Float64Array | Int32Array | null;
  readonly probabilities: Float32Array | Float64Array | null;
  readonly classes: number;
}

/** Runs encoded rows through a session and reads its outputs as columns. */
export async function runSessionColumns(
  session: ort.InferenceSession,
  signature: ServingSignature,
  rows: EncodedRows,
): Promise<OutputColumns> {
  const feeds: Record<string, ort.Tensor> = {
    [signature.numericInput]: new ort.Tensor(signature.numericDtype, rows.numeric, [
      rows.rows,
      signature.numericFeatures.length,
    ]),
  };
  for (const name of signature.categoricalFeatures)
    feeds[name] = new ort.Tensor('string', rows.categorical[name] as string[], [rows.rows, 1]);
  const fetches = [signature.scoreOutput];
  if (signature.labelOutput) fetches.push(signature.labelOutput);
  if (signature.probabilitiesOutput) fetches.push(signature.probabilitiesOutput);
  const results = await session.run(feeds, fetches);
  const scores = results[signature.scoreOutput]?.data as OutputColumns['scores'] | undefined;
  if (!scores || scores.length !== rows.rows)
    throw new Error(`output "${signature.scoreOutput}" has ${scores?.length ?? 0} values for ${rows.rows} rows`);
  const labels = signature.labelOutput
    ? ((results[signature.labelOutput]?.data as OutputColumns['labels'] | undefined) ?? null)
    : null;
  const probabilities = signature.probabilitiesOutput
    ? ((results[signature.probabilitiesOutput]?.data as OutputColumns['probabilities'] | undefined) ?? null)
    : null;
  // The typed arrays stay valid after dispose: onnxruntime-node copies outputs into JavaScript memory.
  for (const tensor of Object.values(results)) tensor.dispose();
  return {
    rows: rows.rows,
    scores,
    labels,
    probabilities,
    classes: probabilities ? probabilities.length / rows.rows : 0,
  };
}

/** One output per row from a run's columns. */
export function rowOutputsOf(columns: OutputColumns): RowOutput[] {
  const { rows, scores, labels, probabilities, classes } = columns;
  const outputs: RowOutput[] = new Array(rows);
  for (let row = 0; row < rows; row++) {
    const label = labels?.[row];
    outputs[row] = {
      score: scores[row] as number,
      label: label === undefined ? null : Number(label),
      probabilities: probabilities
        ? Array.from({ length: classes }, (_, k) => probabilities[row * classes + k] as number)
        : null,
    };
  }
  return outputs;
}

/** Runs encoded rows through a session and reads one output per row. */
export async function runSession(
  session: ort.InferenceSession,
  signature: ServingSignature,
  rows: EncodedRows,
): Promise<RowOutput[]> {
  return rowOutputsOf(await runSessionColumns(session, signature, rows));
}

/**
 * One model version loaded in ONNX Runtime. Requests hold it while they run; once retired (swapped out) its session
 * is released when the last of them ends. With batching on, concurrent requests are coalesced: one run at a time,
 * and whatever arrived meanwhile goes into the next (up to maxRows).
 */
export class LoadedModel {
  private inflight = 0;
  private retired = false;
  private released = false;
  private queue: Waiting[] = [];
  private queuedRows = 0;
  private running = false;
  private scheduled = false;
  private drained: (() => void) | undefined;

  constructor(
    readonly deployment: DeploymentInfo,
    readonly signature: ServingSignature,
    private readonly session: ort.InferenceSession,
    private readonly batching: BatchingOptions,
    private readonly onRun: (rows: number) => void = () => undefined,
    /** TreeSHAP and Saabas contributions of a tree ensemble (domain/explain), when the graph is one. */
    readonly treeExplainers: TreeExplainers | undefined = undefined,
  ) {}

  get inFlight(): number {
    return this.inflight;
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** Scores the rows; answers equal one-by-one runs whether or not they were coalesced with others. */
  async predict(rows: EncodedRows): Promise<RowOutput[]> {
    if (this.released) throw new Error(`${this.describe()} was released`);
    this.inflight++;
    try {
      if (!this.batching.enabled || rows.rows >= this.batching.maxRows) return await this.run(rows);
      return await new Promise<RowOutput[]>((resolve, reject) => {
        this.queue.push({ rows, resolve, reject });
        this.queuedRows += rows.rows;
        this.schedule();
      });
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.release();
    }
  }

  /** Scores a large batch on its own (never coalesced) and answers columns, as batch scoring writes them. */
  async predictColumns(rows: EncodedRows): Promise<OutputColumns> {
    if (this.released) throw new Error(`${this.describe()} was released`);
    this.inflight++;
    try {
      this.onRun(rows.rows);
      return await runSessionColumns(this.session, this.signature, rows);
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.release();
    }
  }

  /** Stops taking new work (the caller already swapped it out); resolves once its session is released. */
  retire(): Promise<void> {
    this.retired = true;
    const done = new Promise<void>((resolve) => (this.drained = resolve));
    if (this.inflight === 0) void this.release();
    return done;
  }

  describe(): string {
    const { model, alias, version } = this.deployment;
    return `${model}/${alias} v${version}`;
  }

  private async run(rows: EncodedRows): Promise<RowOutput[]> {
    this.onRun(rows.rows);
    return runSession(this.session, this.signature, rows);
  }

  private schedule(): void {
    if (this.running) return; // the run in progress takes the queue when it ends
    if (this.queuedRows >= this.batching.maxRows) {
      void this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      void this.flush();
    };
    if (this.batching.maxWaitMs > 0) setTimeout(go, this.batching.maxWaitMs);
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch: Waiting[] = [];
    let taken = 0;
    while (
      this.queue.length > 0 &&
      (batch.length === 0 || taken + (this.queue[0] as Waiting).rows.rows <= this.batching.maxRows)
    ) {
      const next = this.queue.shift() as Waiting;
      batch.push(next);
      taken += next.rows.rows;
    }
    this.queuedRows -= taken;
    try {
      const outputs = await this.run(concatRows(batch.map((waiting) => waiting.rows)));
      let offset = 0;
      for (const waiting of batch) {
        waiting.resolve(outputs.slice(offset, offset + waiting.rows.rows));
        offset += waiting.rows.rows;
      }
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    } finally {
      this.running = false;
      if (this.queue.length > 0) void this.flush();
    }
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
    this.drained?.();
  }
}
