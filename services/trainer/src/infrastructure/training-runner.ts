import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Result, err, ok } from '@mlops/core';
import { trainingError, type TrainingError } from '../domain/snapshot-table';
import type { ChampionEvaluation } from '../domain/champion';
import type { TrainingOutcome } from '../domain/training-job';
import type { WorkerInput, WorkerMessage } from './training.worker';

export type TrainedOutcome = Omit<TrainingOutcome, 'holdout'> & {
  readonly parity: { rows: number; maxDifference: number };
  /** The champion scored on the same holdout, when the run was given one. */
  readonly champion: ChampionEvaluation | null;
};

/** Runs one training in a worker thread; a crash of the worker is a failed run, not a failed service. */
export class TrainingRunner {
  constructor(private readonly script = join(__dirname, 'training.worker.js')) {}

  run(input: WorkerInput, onProgress: (fraction: number) => void): Promise<Result<TrainedOutcome, TrainingError>> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: Result<TrainedOutcome, TrainingError>): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const worker = new Worker(this.script, { workerData: input });
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'progress') onProgress(message.done / Math.max(1, message.total));
        else if (message.ok) settle(ok({ ...message.outcome, parity: message.parity, champion: message.champion }));
        else settle(err(message.error));
        if (message.type === 'done') void worker.terminate();
      });
      worker.on('error', (error) =>
        settle(err(trainingError('training_crashed', `training crashed: ${error.name}: ${error.message}`))),
      );
      worker.on('exit', (code) =>
        settle(
          err(trainingError('training_crashed', `the training worker exited with code ${code} before it answered`)),
        ),
      );
    });
  }
}
