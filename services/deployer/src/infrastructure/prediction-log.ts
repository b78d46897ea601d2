import type { PredictionLoggedV1 } from '@mlops/contracts';
import { isTransientError } from '@mlops/messaging';
import type { PredictionSender, ProcessResources } from './prediction-log-sender';
import type { ServingMetrics } from './serving-metrics';

export interface PredictionLogOptions {
  readonly enabled: boolean;
  /** Most predictions held while Kafka is slow or down; beyond it new ones are dropped (and counted). */
  readonly capacity: number;
  readonly batchSize: number;
  readonly flushMs: number;
  /** This replica: each batch carries its process's CPU and memory sample (the monitor's cost proxy). */
  readonly instanceId: string;
}

/** CPU seconds (user + system) since the process started and resident memory, now. */
export function processResources(instanceId: string): ProcessResources {
  const cpu = process.cpuUsage();
  return { instanceId, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBytes: process.memoryUsage.rss() };
}

const DROP_LOG_EVERY_MS = 10_000;

/**
 * Logs predictions to mlops.prediction.logged.v1 off the request path: `record` only appends to a bounded buffer;
 * a timer hands it to the sender in batches, one send at a time (the service runs its sender in a worker thread). What a full buffer refuses is counted in a metric and reported
 * in a log line (at most every 10 s), never hidden.
 */
export class PredictionLog {
  private buffer: PredictionLoggedV1[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private droppedSinceReport = 0;
  private lastReport = 0;
  /** Predictions acknowledged by Kafka (tests, bench). */
  sent = 0;
  dropped = 0;

  constructor(
    private readonly sender: PredictionSender,
    private readonly metrics: ServingMetrics,
    private readonly options: PredictionLogOptions,
    private readonly logger: { warn(message: string): void },
  ) {}

  start(): void {
    if (!this.options.enabled || this.timer) return;
    this.timer = setInterval(() => this.flush(), this.options.flushMs);
    this.timer.unref();
  }

  record(entries: readonly PredictionLoggedV1[]): void {
    if (!this.options.enabled) return;
    const room = this.options.capacity - this.buffer.length;
    const kept = entries.length <= room ? entries : entries.slice(0, Math.max(0, room));
    if (kept.length > 0) this.buffer.push(...kept);
    if (kept.length < entries.length) this.drop(entries.length - kept.length);
    this.metrics.logBuffered.set(this.buffer.length);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Sends everything buffered (shutdown), then closes the sender; gives up after `timeoutMs`. */
  async drain(timeoutMs = 5_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + timeoutMs;
    while ((this.buffer.length > 0 || this.sending) && Date.now() < deadline) {
      this.flush();
      await Promise.race([this.sending, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    if (this.buffer.length > 0) this.drop(this.buffer.splice(0).length);
    this.reportDrops(true);
    await this.sender.close();
  }

  private flush(): void {
    if (this.sending || this.buffer.length === 0) return;
    const batch = this.buffer.splice(0, this.options.batchSize);
    this.metrics.logBuffered.set(this.buffer.length);
    const resources = processResources(this.options.instanceId);
    this.sending = Promise.resolve()
      .then(() => this.sender.send(batch, resources))
      .then(
        () => {
          this.sent += batch.length;
        },
        (error: unknown) => {
          if (!isKafkaFailure(error)) {
            // An entry its schema refuses is a bug of ours: retrying cannot help.
            this.logger.warn(`prediction log: a batch of ${batch.length} refused: ${(error as Error).message}`);
            this.drop(batch.length);
            return;
          }
          // Kafka refused or timed out: the batch goes back in front, as far as the buffer has room.
          const room = this.options.capacity - this.buffer.length;
          const back = batch.slice(0, Math.max(0, room));
          this.buffer.unshift(...back);
          if (back.length < batch.length) this.drop(batch.length - back.length);
        },
      )
      .finally(() => {
        this.sending = undefined;
        this.metrics.logBuffered.set(this.buffer.length);
        this.reportDrops(false);
      });
  }

  private drop(count: number): void {
    this.dropped += count;
    this.droppedSinceReport += count;
    this.metrics.logDropped.inc(count);
    this.reportDrops(false);
  }

  private reportDrops(force: boolean): void {
    if (this.droppedSinceReport === 0) return;
    const now = Date.now();
    if (!force && now - this.lastReport < DROP_LOG_EVERY_MS) return;
    this.logger.warn(
      `prediction log: ${this.droppedSinceReport} predictions dropped (buffer of ${this.options.capacity} full; Kafka slow or down), ${this.dropped} in all`,
    );
    this.droppedSinceReport = 0;
    this.lastReport = now;
  }
}

function isKafkaFailure(error: unknown): boolean {
  const { name, retryable } = (error ?? {}) as { name?: unknown; retryable?: unknown };
  return isTransientError(error) || retryable === true || (typeof name === 'string' && name.startsWith('KafkaJS'));
}
