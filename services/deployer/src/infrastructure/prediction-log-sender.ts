import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EventTypes, type PredictionLoggedV1 } from '@mlops/contracts';
import { type EventProducer, type KafkaSecurity, newEvent } from '@mlops/messaging';
import type { FromLogWorker, LogWorkerData, ToLogWorker } from './prediction-log.worker';

export type ProcessResources = NonNullable<PredictionLoggedV1['resources']>;

/**
 * Sends one batch of the prediction log as mlops.prediction.logged.v1 events. A rejection is the send's failure:
 * a Kafka failure (or a `retryable` one) puts the batch back in the log's buffer; any other drops it.
 */
export interface PredictionSender {
  send(batch: readonly PredictionLoggedV1[], resources: ProcessResources): Promise<void>;
  close(): Promise<void>;
}

/** A failure the log retries (the sending thread went away); Kafka's own failures are retried as they are. */
export class RetryableSendError extends Error {
  readonly retryable = true;
}

/** The events of a batch, each with the batch's process sample. */
export function loggedEvents(
  batch: readonly PredictionLoggedV1[],
  resources: ProcessResources,
  source: string,
): ReturnType<typeof newEvent<typeof EventTypes.PredictionLoggedV1>>[] {
  return batch.map((data) =>
    newEvent(EventTypes.PredictionLoggedV1, { ...data, resources }, { source, subject: data.requestId }),
  );
}

/** Sends on the service's own producer, in this thread. */
export function producerSender(producer: EventProducer, source: string): PredictionSender {
  return {
    send: (batch, resources) => producer.publishMany(loggedEvents(batch, resources, source)),
    close: () => Promise.resolve(),
  };
}

export interface WorkerSenderOptions {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly security: KafkaSecurity;
  readonly maxEventBytes: number;
  readonly source: string;
  readonly contentMode: 'binary' | 'structured';
  /** Called with the events Kafka acknowledged (the process's produced-messages metric). */
  readonly onProduced: (count: number) => void;
}

/**
 * Sends from a worker thread with its own Kafka producer: building, validating and encoding the events and the
 * produce requests (about a third of the service thread's work per prediction when done there) run beside the
 * requests instead of between them. A worker that dies fails its batches as retryable and is started again.
 */
export class WorkerSender implements PredictionSender {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly options: WorkerSenderOptions,
    private readonly script = join(__dirname, 'prediction-log.worker.js'),
  ) {}

  send(batch: readonly PredictionLoggedV1[], resources: ProcessResources): Promise<void> {
    if (this.closed) return Promise.reject(new RetryableSendError('the prediction log sender is closed'));
    const worker = this.worker ?? this.spawn();
    const id = this.next++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: ToLogWorker = { type: 'send', id, batch, resources };
      worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const message: ToLogWorker = { type: 'close' };
    worker.postMessage(message);
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): Worker {
    const { onProduced: _onProduced, ...rest } = this.options;
    const workerData: LogWorkerData = { ...rest, brokers: [...rest.brokers] };
    const worker = new Worker(this.script, { workerData });
    worker.unref();
    worker.on('message', (message: FromLogWorker) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error === undefined) {
        this.options.onProduced(message.count);
        waiting.resolve();
        return;
      }
      // The worker's error, with what tells a Kafka failure from a bug (name, code, retriable).
      waiting.reject(Object.assign(new Error(message.error.message), message.error));
    });
    const gone = (why: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(new RetryableSendError(why));
      this.pending.clear();
    };
    worker.on('error', (error) => gone(`the prediction log worker failed: ${error.message}`));
    worker.on('exit', (code) => gone(`the prediction log worker exited (${code})`));
    this.worker = worker;
    return worker;
  }
}
