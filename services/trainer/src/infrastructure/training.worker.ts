// The training of one run, in a worker thread so that the service keeps answering and consuming meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { compareOutputs, onnxFeeds } from '@mlops/ml';
import { readTrainingTable, trainingError, type SnapshotColumn, type TrainingError } from '../domain/snapshot-table';
import { type TrainingJob, type TrainingOutcome, runTrainingJob, taskOf } from '../domain/training-job';

export interface WorkerInput {
  readonly snapshot: Uint8Array;
  readonly columns: readonly SnapshotColumn[];
  readonly job: TrainingJob;
}

export type WorkerMessage =
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  | {
      readonly type: 'done';
      readonly ok: true;
      readonly outcome: Omit<TrainingOutcome, 'holdout'>;
      readonly parity: { rows: number; maxDifference: number };
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
  const session = await ort.InferenceSession.create(outcome.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(onnxFeeds(holdout.table))) {
      feeds[name] =
        feed.type === 'float32'
          ? new ort.Tensor('float32', feed.data, [...feed.dims])
          : new ort.Tensor('string', feed.data, [...feed.dims]);
    }
    const output = await session.run(feeds);
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
    return { type: 'done', ok: true, outcome, parity: { rows: report.rows, maxDifference: report.maxDifference } };
  } finally {
    await session.release();
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
