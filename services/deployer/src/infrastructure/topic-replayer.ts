import type { Admin, Consumer, Kafka } from 'kafkajs';
import { setGroupOffsets } from '@mlops/config';
import type { EventType } from '@mlops/contracts';
import { type CloudEvent, decodeMessage } from '@mlops/messaging';

export interface TopicReplayerOptions<T extends EventType> {
  kafka: Kafka;
  topic: T;
  /** A group of this process alone: every replica reads every partition. */
  groupId: string;
  /** Start at the first message at or after this time; the beginning of the topic when absent. */
  sinceMs?: number | undefined;
  maxEventBytes: number;
  /** Called in order per partition; a throw is logged and the message skipped (the state is a cache). */
  onEvent: (event: CloudEvent<T>) => Promise<void> | void;
  logger: { log(message: string): void; warn(message: string): void };
}

/**
 * Reads a compacted topic from its beginning into this process's memory and stays on it: the latest state per key
 * (promoted aliases, online feature vectors). `caughtUp` resolves once every partition has been read up to the end
 * it had at start, so readiness can wait for it.
 */
export class TopicReplayer<T extends EventType> {
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  /** Per partition: the offset to reach (high watermark at start) and the next offset to read. */
  private readonly targets = new Map<number, bigint>();
  private readonly positions = new Map<number, bigint>();
  private caughtUpFlag = false;
  private resolveCaughtUp!: () => void;
  readonly caughtUp: Promise<void> = new Promise((resolve) => (this.resolveCaughtUp = resolve));
  /** Events read so far (metrics, tests). */
  eventsRead = 0;

  constructor(private readonly options: TopicReplayerOptions<T>) {}

  get isCaughtUp(): boolean {
    return this.caughtUpFlag;
  }

  async start(): Promise<void> {
    const { kafka, topic, groupId } = this.options;
    this.admin = kafka.admin();
    await this.admin.connect();
    const ends = await this.admin.fetchTopicOffsets(topic);
    const starts =
      this.options.sinceMs === undefined
        ? ends.map((end) => ({ partition: end.partition, offset: end.low }))
        : await this.admin.fetchTopicOffsetsByTimestamp(topic, this.options.sinceMs);
    for (const end of ends) {
      const start = starts.find((s) => s.partition === end.partition);
      const from = BigInt(start?.offset ?? end.low);
      this.targets.set(end.partition, BigInt(end.high));
      this.positions.set(end.partition, from < 0n ? BigInt(end.high) : from);
    }
    await setGroupOffsets(kafka, groupId, [
      {
        topic,
        partitions: [...this.positions].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
      },
    ]);
    await this.admin.disconnect();
    this.admin = undefined;
    this.checkCaughtUp();
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const message of batch.messages) {
          try {
            const event = decodeMessage(topic, message, { maxEventBytes: this.options.maxEventBytes }) as CloudEvent<T>;
            this.eventsRead++;
            await this.options.onEvent(event);
          } catch (error) {
            this.options.logger.warn(
              `${topic} [${batch.partition}] offset ${message.offset} skipped: ${(error as Error).message}`,
            );
          }
          this.positions.set(batch.partition, BigInt(message.offset) + 1n);
        }
        // An empty or filtered tail (compaction, control records): the fetch's high watermark is where we are.
        if (batch.messages.length === 0 || batch.isEmpty()) {
          const high = BigInt(batch.highWatermark);
          if ((this.positions.get(batch.partition) ?? 0n) < high) this.positions.set(batch.partition, high);
        }
        this.checkCaughtUp();
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
    await this.admin?.disconnect();
  }

  private checkCaughtUp(): void {
    if (this.caughtUpFlag) return;
    for (const [partition, target] of this.targets) {
      if ((this.positions.get(partition) ?? 0n) < target) return;
    }
    this.caughtUpFlag = true;
    this.options.logger.log(`${this.options.topic}: caught up (${this.eventsRead} events read)`);
    this.resolveCaughtUp();
  }
}
