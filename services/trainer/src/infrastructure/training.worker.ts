// The training of one run, in a worker thread so that the service keeps answering and consuming meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { ONNX_SESSION_OPTIONS, type OnnxFeed, type Task, compareOutputs, onnxFeeds } from '@mlops/ml';
import { type ChampionEvaluation, type ChampionSignature, championFeeds } from '../domain/champion';
import { readTrainingTable, trainingError, type SnapshotColumn, type TrainingError } from '../domain/snapshot-table';
import { type TrainingJob, type TrainingOutcome, metricsOf, runTrainingJob, taskOf } from '../domain/training-job';

export interface WorkerInput {
  readonly snapshot: Uint8Array;
  readonly columns: readonly SnapshotColumn[];
  readonly job: TrainingJob;
  /** The champion to score on the same holdout: its verified ONNX bytes and signature. */
  readonly champion?: { readonly onnx: Uint8Array; readonly signature: ChampionSignature };
}

export type WorkerMessage =
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  | {
      readonly type: 'done';
      readonly ok: true;
      readonly outcome: Omit<TrainingOutcome, 'holdout'>;
      readonly parity: { rows: number; maxDifference: number };
      readonly champion: ChampionEvaluation | null;
    }
  | { readonly type: 'done'; readonly ok: false; readonly error: TrainingError };

async function main(input: WorkerInput): Promise<WorkerMessage> {
  const task = taskOf(input.job.task);
  const data = readTrainingTable(input.snapshot, input.columns, task);
  if (!data.ok) return { type: 'done', ok: false, error: data.error };
  let lastReported = -1;
  const trained = runTrainingJob(data.value, input.job, (done, total) => {
    const percent = Math.floor((100 * done) / total);
    if (percent === lastReported) return;
    lastReported = percent;
    parentPort?.postMessage({ type: 'progress', done, total } satisfies WorkerMessage);
  });
  if (!trained.ok) return { type: 'done', ok: false, error: trained.error };
  const { holdout, ...outcome } = trained.value;
  // Parity: the runtime that will serve the model must give what the TypeScript model gives, on the holdout.
  const session = await ort.InferenceSession.create(outcome.onnx, ONNX_SESSION_OPTIONS);
  try {
    const output = await session.run(tensorsOf(onnxFeeds(holdout.table)));
    const scores = output[outcome.signature.outputName]?.data as Float32Array | undefined;
    const report = compareOutputs(task, holdout.predictions, scores ?? new Float32Array(0));
    if (report.firstMismatch) {
      const { row, expected, actual } = report.firstMismatch;
      return {
        type: 'done',
        ok: false,
        error: trainingError(
          'onnx_parity_mismatch',
          `the exported ONNX model gives ${actual} on holdout row ${row} where the trained model gives ${expected} (tolerance 1e-5): the export is wrong, report it`,
          'export',
        ),
      };
    }
    const champion = input.champion ? await scoreChampion(task, holdout, input.champion) : null;
    return {
      type: 'done',
      ok: true,
      outcome,
      parity: { rows: report.rows, maxDifference: report.maxDifference },
      champion,
    };
  } finally {
    await session.release();
  }
}

function tensorsOf(feeds: Record<string, OnnxFeed>): Record<string, ort.Tensor> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, feed] of Object.entries(feeds)) {
    tensors[name] =
      feed.type === 'float32'
        ? new ort.Tensor('float32', feed.data, [...feed.dims])
        : new ort.Tensor('string', feed.data, [...feed.dims]);
  }
  return tensors;
}

/** The champion's metrics on the candidate's holdout rows, or why it could not be scored (never fails the run). */
async function scoreChampion(
  task: Task,
  holdout: TrainingOutcome['holdout'],
  champion: NonNullable<WorkerInput['champion']>,
): Promise<ChampionEvaluation> {
  const feeds = championFeeds(holdout.table, champion.signature);
  if (!feeds.ok) return { skipped: feeds.error };
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(champion.onnx, ONNX_SESSION_OPTIONS);
    const output = await session.run(tensorsOf(feeds.value));
    const scores = output[champion.signature.outputName]?.data;
    if (!(scores instanceof Float32Array) || scores.length !== holdout.table.rows)
      return { skipped: `the champion has no float output ${champion.signature.outputName} with one score per row` };
    const predictions = Float64Array.from(scores);
    if (predictions.some((value) => !Number.isFinite(value)))
      return { skipped: 'the champion predicts non-finite values on the holdout' };
    return { metrics: metricsOf(task, holdout.labels, predictions).metrics };
  } catch (error) {
    return {
      skipped: `the champion's ONNX model could not run: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    await session?.release();
  }
}

if (parentPort) {
  const port = parentPort;
  main(workerData as WorkerInput).then(
    (message) => port.postMessage(message),
    (error: unknown) => {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      port.postMessage({
        type: 'done',
        ok: false,
        error: trainingError('training_crashed', `training crashed: ${message}`),
      } satisfies WorkerMessage);
    },
  );
}
