import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { type EventType, dlqTopicOf } from '@mlops/contracts';
import { type CloudEvent, decodeMessage } from './cloud-event';
import { PermanentHandlerError, PoisonMessageError, type PoisonReason } from './errors';
import { claimInInbox, claimManyInInbox, inboxKey } from './inbox';
import { isTransientError } from './transient';
import type { MessagingMetrics } from './metrics';
import { DEFAULT_MAX_EVENT_BYTES, type EventProducer } from './producer';

export interface HandlerContext {
  /** The transaction the inbox claim lives in: write the effect (and outbox rows) through it. */
  readonly manager?: EntityManager;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly attempt: number;
  /**
   * The events whose effects share this transaction, in order, this one included (just this one outside a
   * group): a handler may read ahead to batch its reads for all of them on its first call.
   */
  readonly transactionEvents?: readonly CloudEvent[];
}

/** What a handler of a runner with an inbox gets: the inbox transaction is always there. */
export interface InboxHandlerContext extends HandlerContext {
  readonly manager: EntityManager;
  readonly transactionEvents: readonly CloudEvent[];
}

export type EventHandler<T extends EventType = EventType, C extends HandlerContext = HandlerContext> = (
  event: CloudEvent<T>,
  context: C,
) => Promise<void>;

export interface RetryPolicy {
  /** Attempts at a handler failing for an unknown reason (a bug) before its event is dead-lettered. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Longest wait between tries while a dependency is unavailable; those tries never run out. */
  unavailableMaxDelayMs: number;
}

export interface InboxOptions {
  dataSource: DataSource;
  schema: string;
}

/**
 * Rewrites the value of an event about to be dead-lettered (e.g. hashes or drops sensitive fields), so a dead
 * letter keeps no more than the service would have let out. Throwing drops the value: the dead letter keeps its headers.
 */
export type DeadLetterRedactor = (
  value: Buffer,
  headers: Readonly<Record<string, string | Buffer>>,
) => Buffer | Promise<Buffer>;

export interface ConsumerRunnerOptions {
  kafka: Kafka;
  /** Consumer group, and the name written in the inbox and on dead letters. */
  consumerName: string;
  producer: EventProducer;
  metrics: MessagingMetrics;
  /** With an inbox each effect runs in a Postgres transaction that also records the event id. */
  inbox?: InboxOptions;
  retry?: Partial<RetryPolicy>;
  maxEventBytes?: number;
  /**
   * Most consecutive events of a partition whose effects share one inbox transaction (DEFAULT_MAX_GROUP). A sink
   * into ClickHouse takes more: its cost is mostly per insert, and a group is one insert per table.
   */
  maxGroup?: number;
  fromBeginning?: boolean;
  /** Partitions handled at once (kafkajs partitionsConsumedConcurrently); default 8. */
  concurrentPartitions?: number;
  /** Per source topic: applied to the value of every dead letter of that topic before it is written. */
  redactDeadLetter?: Readonly<Record<string, DeadLetterRedactor>>;
  logger?: { log(message: string): void; warn(message: string): void; error(message: string): void };
}

/** The options a runner whose handlers get context C needs: an inbox when C promises its transaction. */
export type RunnerOptionsFor<C extends HandlerContext> = C extends InboxHandlerContext
  ? ConsumerRunnerOptions & { inbox: InboxOptions }
  : ConsumerRunnerOptions;

const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  unavailableMaxDelayMs: 10_000,
};
/**
 * Most consecutive events of one partition whose effects share one inbox transaction, unless the runner is given
 * maxGroup (the groups of partitions fetched together share it too: see runGroupTogether).
 */
export const DEFAULT_MAX_GROUP = 500;
/** Fetch room per partition for a full group: events of this many bytes on average fill a group in one fetch. */
const GROUP_EVENT_BYTES = 2_048;
/**
 * Partitions whose batches are handled at once: every partition of a stream topic (6), so one fetch's batches arrive
 * together and share one transaction (runGroupTogether) instead of waiting for each other in turns.
 */
const DEFAULT_CONCURRENT_PARTITIONS = 8;

interface Decoded {
  message: KafkaMessage;
  event: CloudEvent;
  handler: EventHandler;
}

/** A group of one partition waiting for the groups of the topic's other partitions to share a transaction. */
interface GroupRequest {
  group: Decoded[];
  partition: number;
  resolve: (outcomes: Outcome[]) => void;
  reject: (error: unknown) => void;
}

/**
 * A handler of a group failed: the whole transaction rolled back; `index` names the event that failed in the group
 * of request `request` (the groups of other partitions that shared the transaction did not fail).
 */
class GroupFailure extends Error {
  constructor(
    readonly index: number,
    readonly failure: unknown,
    readonly request = 0,
  ) {
    super('group failed');
  }
}

/** A failure seen before `process` starts (in a group): it counts as that attempt. */
interface PriorFailure {
  attempt: number;
  error: unknown;
}

type Outcome = 'processed' | 'duplicate' | 'dead_lettered';

/**
 * Runs handlers for event types: decode and validate, at most one effect per event (inbox),
 * bounded retries for transient errors, dead letters for what can never succeed, and offsets
 * committed only after the effect (or the dead letter) is durable.
 */
export class EventConsumerRunner<C extends HandlerContext = HandlerContext> {
  private readonly handlers = new Map<string, EventHandler>();
  private readonly retry: RetryPolicy;
  private readonly maxEventBytes: number;
  private readonly maxGroup: number;
  private consumer?: Consumer | undefined;

  private readonly options: ConsumerRunnerOptions;
  private readonly redactors: Map<string, DeadLetterRedactor>;
  /** Per topic, the groups that arrived in this turn of the event loop (see runGroupTogether). */
  private readonly gathering = new Map<string, GroupRequest[]>();
  /** The offset commit not yet started, which batches ending now share; the last one queued (see commitResolved). */
  private queuedCommit: Promise<void> | undefined;
  private lastCommit: Promise<void> = Promise.resolve();

  constructor(options: RunnerOptionsFor<C>) {
    this.options = options;
    this.redactors = new Map(Object.entries(options.redactDeadLetter ?? {}));
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.maxGroup = options.maxGroup ?? DEFAULT_MAX_GROUP;
    if (!Number.isInteger(this.maxGroup) || this.maxGroup < 1)
      throw new Error(`maxGroup must be a positive integer, not ${this.maxGroup}`);
  }

  on<T extends EventType>(type: T, handler: EventHandler<T, C>): this {
    if (this.handlers.has(type)) throw new Error(`${this.options.consumerName} already handles ${type}`);
    this.handlers.set(type, handler as unknown as EventHandler);
    return this;
  }

  /** Redacts the dead letters of `topic` (replacing any redactor set before); set it before `start`. */
  redactDeadLettersOf(topic: string, redactor: DeadLetterRedactor): this {
    this.redactors.set(topic, redactor);
    return this;
  }

  get topics(): string[] {
    return [...this.handlers.keys()];
  }

  async start(): Promise<void> {
    if (this.handlers.size === 0) throw new Error(`${this.options.consumerName} has no handlers`);
    const consumer = this.options.kafka.consumer({
      groupId: this.options.consumerName,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // How long an idle fetch waits at the broker, so also how long stop() waits for the one in flight: the Java
      // client's fetch.max.wait.ms (kafkajs' 5 s made every app's close take 5 s).
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: Math.max(1_048_576, this.maxEventBytes * 2, this.maxGroup * GROUP_EVENT_BYTES),
      // kafkajs restarts a crashed consumer on a timer; once stop() is called that restart must not happen.
      retry: { restartOnFailure: async () => this.consumer === consumer },
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      // kafkajs' own auto-commit sends a commit after every partition's batch (six for one fetch of a six-partition
      // topic, most of the broker's requests); commitResolved sends one for the batches that end together instead.
      // With autoCommit off and an interval of 0, commitOffsetsIfNecessary() commits every resolved offset.
      autoCommit: false,
      autoCommitInterval: 0,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrentPartitions ?? DEFAULT_CONCURRENT_PARTITIONS,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  /**
   * Handles a partition's batch, then commits the offsets it resolved (also when it stops early or fails, as kafkajs'
   * auto-commit did), once they are durable: only effects already committed (or dead-lettered) resolve an offset.
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    let failed = true;
    try {
      await this.handleBatch(payload);
      failed = false;
    } finally {
      const committed = this.commitResolved(payload.commitOffsetsIfNecessary);
      // A batch that failed keeps its own error; the commit of what it resolved before is best effort then.
      await (failed ? committed.catch(() => undefined) : committed);
    }
  }

  /**
   * One offset commit for the batches that end together (the partitions of one fetch end in the same turn): the
   * first caller queues it a turn later, callers before it starts share it, callers during it queue the next one,
   * which carries every offset resolved since. Each caller's offsets are committed when its promise resolves.
   */
  private commitResolved(commit: EachBatchPayload['commitOffsetsIfNecessary']): Promise<void> {
    if (this.queuedCommit) return this.queuedCommit;
    const queued = this.lastCommit
      .catch(() => undefined)
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.queuedCommit = undefined;
        return commit();
      });
    this.queuedCommit = queued;
    this.lastCommit = queued;
    return queued;
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { consumerName, metrics } = this.options;
    const labels = { topic: batch.topic, consumer: consumerName };
    const done = (message: KafkaMessage, outcome: Outcome) => {
      metrics.consumed.inc({ ...labels, outcome });
      resolveOffset(message.offset);
      metrics.consumerLag.set(
        { ...labels, partition: String(batch.partition) },
        Math.max(0, Number(batch.highWatermark) - Number(message.offset) - 1),
      );
    };
    const messages = batch.messages;
    for (let i = 0; i < messages.length;) {
      if (!isRunning() || isStale()) return;
      // Fast path: consecutive good events share one inbox transaction; any failure in it rolls the
      // group back and its events go one by one below, so retries and dead letters stay per event.
      const group = this.options.inbox ? this.decodableRun(batch.topic, messages, i) : [];
      let singles = 1;
      let prior: PriorFailure | undefined;
      let failedAt = -1;
      if (group.length > 1) {
        const stopTimer = metrics.handlerSeconds.startTimer(labels);
        try {
          const outcomes = await this.runGroupTogether(group, batch.topic, batch.partition);
          stopTimer();
          group.forEach((item, k) => done(item.message, outcomes[k]!));
          i += group.length;
          await heartbeat();
          continue;
        } catch (error) {
          // The group's events go one by one; a handler that failed in it has used its first attempt
          // (any other failure, such as a lost connection, costs no attempt).
          singles = group.length;
          if (error instanceof GroupFailure) {
            failedAt = i + error.index;
            prior = { attempt: 1, error: error.failure };
          }
        }
      }
      for (const end = i + singles; i < end; i++) {
        const message = messages[i]!;
        const stopTimer = metrics.handlerSeconds.startTimer(labels);
        const outcome = await this.process(
          batch.topic,
          batch.partition,
          message,
          heartbeat,
          () => isRunning() && !isStale(),
          i === failedAt ? prior : undefined,
        );
        if (outcome === undefined) return; // stopping mid-retry: leave the offset for the next owner
        stopTimer();
        done(message, outcome);
        await heartbeat();
      }
    }
  }

  /** The run of messages from `start` that decode and have a handler, at most maxGroup long. */
  private decodableRun(topic: string, messages: KafkaMessage[], start: number): Decoded[] {
    const run: Decoded[] = [];
    for (let i = start; i < messages.length && run.length < this.maxGroup; i++) {
      let event: CloudEvent;
      try {
        event = decodeMessage(topic, messages[i]!, { maxEventBytes: this.maxEventBytes });
      } catch {
        break;
      }
      const handler = this.handlers.get(event.type);
      if (!handler) break;
      run.push({ message: messages[i]!, event, handler });
    }
    return run;
  }

  /**
   * Runs a group in one inbox transaction with the groups of the same topic's other partitions that arrive in the same
   * turn of the event loop (kafkajs hands the batches of one fetch to its workers together): one transaction, one
   * inbox claim and one set of writes for all of them instead of one per partition. A handler failure rolls back all;
   * the failing group then goes one by one (GroupFailure), the others run again, each in its own transaction.
   */
  private runGroupTogether(group: Decoded[], topic: string, partition: number): Promise<Outcome[]> {
    return new Promise((resolve, reject) => {
      let requests = this.gathering.get(topic);
      if (!requests) {
        const gathered: GroupRequest[] = (requests = []);
        this.gathering.set(topic, gathered);
        setImmediate(() => {
          this.gathering.delete(topic);
          void this.runGathered(gathered, topic);
        });
      }
      requests.push({ group, partition, resolve, reject });
    });
  }

  private async runGathered(requests: readonly GroupRequest[], topic: string): Promise<void> {
    try {
      const outcomes = await this.runGroups(requests, topic);
      requests.forEach((request, k) => request.resolve(outcomes[k]!));
    } catch (error) {
      if (!(error instanceof GroupFailure) || requests.length === 1) {
        for (const request of requests) request.reject(error);
        return;
      }
      requests.forEach((request, k) => {
        if (k === error.request) request.reject(new GroupFailure(error.index, error.failure));
        else void this.runGathered([request], topic);
      });
    }
  }

  private runGroups(requests: readonly GroupRequest[], topic: string): Promise<Outcome[][]> {
    const inbox = this.options.inbox!;
    const transactionEvents = requests.flatMap((request) => request.group.map((g) => g.event));
    return inbox.dataSource.transaction(async (manager) => {
      const fresh = await claimManyInInbox(manager, inbox.schema, this.options.consumerName, transactionEvents);
      const outcomes: Outcome[][] = [];
      for (const [r, { group, partition }] of requests.entries()) {
        const groupOutcomes: Outcome[] = [];
        outcomes.push(groupOutcomes);
        for (const [index, { message, event, handler }] of group.entries()) {
          // Deleting the key makes a second copy of the same event within the transaction a duplicate too.
          if (!fresh.delete(inboxKey(event.source, event.id))) {
            groupOutcomes.push('duplicate');
            continue;
          }
          try {
            await handler(event, { manager, topic, partition, offset: message.offset, attempt: 1, transactionEvents });
          } catch (error) {
            throw new GroupFailure(index, error, r);
          }
          groupOutcomes.push('processed');
        }
      }
      return outcomes;
    });
  }

  private async process(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    stillOwned: () => boolean,
    prior?: PriorFailure,
  ): Promise<Outcome | undefined> {
    let event: CloudEvent;
    try {
      event = decodeMessage(topic, message, { maxEventBytes: this.maxEventBytes });
    } catch (error) {
      if (!(error instanceof PoisonMessageError)) throw error;
      await this.deadLetter(topic, partition, message, error.reason, error.message, 0);
      return 'dead_lettered';
    }
    const handler = this.handlers.get(event.type);
    if (!handler) {
      await this.deadLetter(
        topic,
        partition,
        message,
        'no-handler',
        `${this.options.consumerName} has no handler for ${event.type}`,
        0,
      );
      return 'dead_lettered';
    }
    let attempt = prior?.attempt ?? 0;
    let failed = prior !== undefined;
    let failure: unknown = prior?.error;
    // Tries while a dependency is unavailable: they wait, and do not count towards the dead letter.
    let unavailableTries = 0;
    const waiting = { topic, partition: String(partition), consumer: this.options.consumerName };
    try {
      for (;;) {
        if (failed) {
          const unavailable = isTransientError(failure);
          let delay: number;
          if (unavailable) {
            unavailableTries++;
            attempt = Math.max(0, attempt - 1);
            delay = Math.min(
              this.retry.unavailableMaxDelayMs,
              this.retry.initialDelayMs * 2 ** Math.min(unavailableTries - 1, 20),
            );
            this.options.metrics.waitingOnDependency.set(waiting, 1);
            // One line when the wait starts, then one about every minute: an outage must not flood the log.
            if (
              unavailableTries === 1 ||
              unavailableTries % Math.max(1, Math.round(60_000 / this.retry.unavailableMaxDelayMs)) === 0
            ) {
              this.options.logger?.warn(
                `${this.options.consumerName}: ${topic}[${partition}] waits for a dependency (try ${unavailableTries}, next in ${delay} ms): ${describeFailure(failure)}`,
              );
            }
          } else {
            const reason: PoisonReason | 'retries-exhausted' =
              failure instanceof PermanentHandlerError
                ? 'rejected-by-handler'
                : failure instanceof PoisonMessageError
                  ? failure.reason
                  : 'retries-exhausted';
            if (reason !== 'retries-exhausted' || attempt >= this.retry.attempts) {
              await this.deadLetter(topic, partition, message, reason, describeFailure(failure), attempt);
              return 'dead_lettered';
            }
            delay = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** (attempt - 1));
            this.options.logger?.warn(
              `${this.options.consumerName}: ${event.type} ${event.id} failed (attempt ${attempt}), retrying in ${delay} ms: ${describeFailure(failure)}`,
            );
          }
          await sleep(delay);
          if (!stillOwned()) return undefined;
          await heartbeat().catch(() => undefined);
        }
        attempt++;
        try {
          const processed = await this.runHandler(handler, event, {
            topic,
            partition,
            offset: message.offset,
            attempt,
          });
          if (unavailableTries > 0)
            this.options.logger?.log(
              `${this.options.consumerName}: ${topic}[${partition}] resumed after ${unavailableTries} tries`,
            );
          return processed ? 'processed' : 'duplicate';
        } catch (error) {
          failed = true;
          failure = error;
        }
      }
    } finally {
      if (unavailableTries > 0) this.options.metrics.waitingOnDependency.set(waiting, 0);
    }
  }

  /** Returns false when the inbox says the event was already processed. */
  private async runHandler(
    handler: EventHandler,
    event: CloudEvent,
    position: Omit<HandlerContext, 'manager'>,
  ): Promise<boolean> {
    const inbox = this.options.inbox;
    if (!inbox) {
      await handler(event, position);
      return true;
    }
    return inbox.dataSource.transaction(async (manager) => {
      if (!(await claimInInbox(manager, inbox.schema, this.options.consumerName, event))) return false;
      await handler(event, { ...position, manager, transactionEvents: [event] });
      return true;
    });
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
    error: string,
    attempts: number,
  ): Promise<void> {
    await sendDeadLetter({
      producer: this.options.producer,
      metrics: this.options.metrics,
      consumerName: this.options.consumerName,
      topic,
      partition,
      message,
      reason,
      error,
      attempts,
      redactor: this.redactors.get(topic),
      retryDelayMs: (attempt) =>
        Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** Math.min(attempt, 10)),
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
  }
}

export interface DeadLetterRequest {
  producer: EventProducer;
  metrics: MessagingMetrics;
  /** The consumer that gives up (its group): the dlq_consumer header and the metric's label. */
  consumerName: string;
  /** The topic the message belongs to: its dead letter goes to `<topic>.dlq`, and a redrive brings it back there. */
  topic: string;
  partition: number;
  message: Pick<KafkaMessage, 'value' | 'headers' | 'offset' | 'timestamp'> & { key: Buffer | string | null };
  reason: string;
  /** Why, already safe to keep (no record values): see describeFailure. */
  error: string;
  attempts: number;
  redactor?: DeadLetterRedactor | undefined;
  /** More headers (after the message's own and the dlq_* ones). */
  extraHeaders?: Readonly<Record<string, string>>;
  retryDelayMs?: (attempt: number) => number;
  logger?: { warn(message: string): void; error(message: string): void };
}

/**
 * Writes a dead letter to `<topic>.dlq`: the message's key, value (redacted when a redactor is given) and headers,
 * plus the dlq_* headers `npm run dlq` reads. Returns once the broker acknowledged it: a failure to send is retried,
 * never skipped, so the caller may move its offset on afterwards.
 */
export async function sendDeadLetter(request: DeadLetterRequest): Promise<void> {
  const { producer, metrics, consumerName, topic, partition, message, reason, error, attempts, logger } = request;
  const headers: Record<string, string | Buffer> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first;
  }
  Object.assign(headers, {
    dlq_reason: reason,
    dlq_error: error.slice(0, 8_000),
    dlq_consumer: consumerName,
    dlq_original_topic: topic,
    dlq_original_partition: String(partition),
    dlq_original_offset: message.offset,
    dlq_original_timestamp: message.timestamp,
    dlq_attempts: String(attempts),
    dlq_failed_at: new Date().toISOString(),
    ...request.extraHeaders,
  });
  const value = await redactedValue(consumerName, topic, message.value, headers, request.redactor, logger);
  const delayOf = request.retryDelayMs ?? ((attempt: number) => Math.min(5_000, 100 * 2 ** Math.min(attempt, 10)));
  // The dead letter must be durable before the offset moves on: a failure here is retried, never skipped.
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.send(dlqTopicOf(topic), { key: message.key, value, headers });
      break;
    } catch (sendError) {
      logger?.error(
        `${consumerName}: dead letter to ${dlqTopicOf(topic)} failed (attempt ${attempt}): ${describeFailure(sendError)}`,
      );
      await sleep(delayOf(attempt));
    }
  }
  metrics.deadLettered.inc({ topic, consumer: consumerName, reason });
  logger?.warn(`${consumerName}: ${topic}[${partition}]@${message.offset} dead-lettered (${reason}): ${error}`);
}

/** The value a dead letter may keep; a redactor that fails drops it (said in a dlq_redacted header). */
async function redactedValue(
  consumerName: string,
  topic: string,
  value: Buffer | null,
  headers: Record<string, string | Buffer>,
  redactor: DeadLetterRedactor | undefined,
  logger: DeadLetterRequest['logger'],
): Promise<Buffer | null> {
  if (!redactor || value === null) return value;
  try {
    const redacted = await redactor(value, headers);
    headers.dlq_redacted = 'true';
    return redacted;
  } catch (error) {
    logger?.error(
      `${consumerName}: redacting a dead letter of ${topic} failed, its value is dropped: ${describeFailure(error)}`,
    );
    headers.dlq_redacted = 'dropped';
    return null;
  }
}

/** An error's message without what a driver may attach (SQL parameters carry record values). */
export function describeFailure(failure: unknown): string {
  if (!(failure instanceof Error)) return String(failure);
  // Postgres data exceptions (class 22) quote the offending value in their message: elided.
  const code = (failure as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22')
    ? failure.message.replace(/"[^"]*"/g, '"..."')
    : failure.message;
}
