// The prediction log's sending, in a worker thread with its own Kafka producer (WorkerSender).
import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import type { PredictionLoggedV1 } from '@mlops/contracts';
import { EventProducer, type KafkaSecurity, MessagingMetrics, createKafka } from '@mlops/messaging';
import { type ProcessResources, loggedEvents } from './prediction-log-sender';

export interface LogWorkerData {
  readonly clientId: string;
  readonly brokers: string[];
  readonly security: KafkaSecurity;
  readonly maxEventBytes: number;
  readonly source: string;
  readonly contentMode: 'binary' | 'structured';
}

export type ToLogWorker =
  | {
      readonly type: 'send';
      readonly id: number;
      readonly batch: readonly PredictionLoggedV1[];
      readonly resources: ProcessResources;
    }
  | { readonly type: 'close' };

export type FromLogWorker =
  | { readonly id: number; readonly count: number; readonly error?: undefined }
  | {
      readonly id: number;
      readonly error: { name: string; message: string; code?: unknown; retriable?: unknown };
    };

if (parentPort) {
  const port = parentPort;
  const data = workerData as LogWorkerData;
  const producer = new EventProducer({
    kafka: createKafka(data.clientId, data.brokers, data.security),
    metrics: MessagingMetrics.for(new Registry()),
    maxEventBytes: data.maxEventBytes,
    contentMode: data.contentMode,
  });
  let connecting: Promise<void> | undefined;
  const connected = (): Promise<void> => {
    connecting ??= producer.connect().catch((error: unknown) => {
      connecting = undefined; // the next batch tries again
      throw error;
    });
    return connecting;
  };
  port.on('message', (message: ToLogWorker) => {
    if (message.type === 'close') {
      void producer
        .disconnect()
        .catch(() => undefined)
        .finally(() => process.exit(0));
      return;
    }
    const { id, batch, resources } = message;
    connected()
      .then(() => producer.publishMany(loggedEvents(batch, resources, data.source)))
      .then(
        () => port.postMessage({ id, count: batch.length } satisfies FromLogWorker),
        (error: unknown) => {
          const failure = error as { name?: unknown; message?: unknown; code?: unknown; retriable?: unknown };
          port.postMessage({
            id,
            error: {
              name: typeof failure.name === 'string' ? failure.name : 'Error',
              message: typeof failure.message === 'string' ? failure.message : String(error),
              ...(failure.code !== undefined ? { code: failure.code } : {}),
              ...(failure.retriable !== undefined ? { retriable: failure.retriable } : {}),
            },
          } satisfies FromLogWorker);
        },
      );
  });
}
