import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { setGroupOffsets } from '@mlops/config';

/** What `dlqTopicOf` appends. */
const DLQ_SUFFIX = '.dlq';

/** The consumer group whose committed offsets on a dead-letter topic mark what was already redriven. */
export const REDRIVE_GROUP = 'mlops-dlq-redrive';

export interface DeadLetter {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly reason: string;
  readonly error: string;
  readonly consumer: string;
  readonly attempts: string;
  readonly failedAt: string;
  readonly original: { readonly topic: string; readonly partition: string; readonly offset: string };
  readonly type: string;
  readonly id: string;
  readonly value: string;
}

export interface DeadLetterTopicSummary {
  readonly topic: string;
  /** Messages the topic holds (within its retention). */
  readonly total: number;
  /** Messages after what was last redriven. */
  readonly pending: number;
}

export interface RedriveSummary {
  readonly topic: string;
  readonly redriven: number;
  /** Dead letters whose original topic is not the one they sit under (never moved). */
  readonly skipped: number;
}

/** A dead-letter topic from either its own name or the name of the topic it serves. */
export function deadLetterTopicOf(topic: string): string {
  return topic.endsWith(DLQ_SUFFIX) ? topic : `${topic}${DLQ_SUFFIX}`;
}

function headerText(headers: IHeaders | undefined, name: string): string {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? '' : first.toString();
}

export function readDeadLetter(partition: number, message: KafkaMessage): DeadLetter {
  const h = (name: string) => headerText(message.headers, name);
  return {
    partition,
    offset: message.offset,
    key: message.key ? message.key.toString() : null,
    reason: h('dlq_reason'),
    error: h('dlq_error'),
    consumer: h('dlq_consumer'),
    attempts: h('dlq_attempts'),
    failedAt: h('dlq_failed_at'),
    original: {
      topic: h('dlq_original_topic'),
      partition: h('dlq_original_partition'),
      offset: h('dlq_original_offset'),
    },
    type: h('ce_type'),
    id: h('ce_id'),
    value: message.value ? message.value.toString() : '',
  };
}

/** Every dead-letter topic with its size and what is left to redrive. */
export async function listDeadLetterTopics(kafka: Kafka): Promise<DeadLetterTopicSummary[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((name) => name.endsWith(DLQ_SUFFIX)).sort();
    const summaries: DeadLetterTopicSummary[] = [];
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId: REDRIVE_GROUP, topics: [topic] });
      let total = 0;
      let pending = 0;
      for (const end of ends) {
        const low = Number(end.low);
        const high = Number(end.high);
        const done = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        total += high - low;
        pending += high - Math.max(low, done);
      }
      summaries.push({ topic, total, pending });
    }
    return summaries;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Visits the dead letters after what was last redriven, up to the end the topic had when called, partition by
 * partition; `commit` moves the redrive position past what was visited.
 */
async function visitPending(
  kafka: Kafka,
  topic: string,
  visit: (letter: DeadLetter, message: KafkaMessage) => Promise<void>,
  options: { commit: boolean; limit?: number },
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let visited = 0;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: REDRIVE_GROUP, topics: [topic] });
    // Per partition: the first offset to visit and the end to stop at (the end when called).
    const ranges = new Map<number, { next: number; high: number }>();
    for (const end of ends) {
      const done = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
      const next = Math.max(Number(end.low), done);
      if (next < Number(end.high)) ranges.set(end.partition, { next, high: Number(end.high) });
    }
    if (ranges.size === 0) return 0;
    // A throwaway reader group that never commits: the redrive position lives in REDRIVE_GROUP alone.
    const consumer = kafka.consumer({
      groupId: `${REDRIVE_GROUP}-reader-${process.pid}-${Date.now()}`,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const finishedAll = () =>
          [...ranges.values()].every((range) => range.next >= range.high) ||
          (options.limit !== undefined && visited >= options.limit);
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const range = ranges.get(batch.partition);
              if (!range) return;
              const from = range.next;
              try {
                for (const message of batch.messages) {
                  const offset = Number(message.offset);
                  if (offset < range.next || offset >= range.high || finishedAll()) continue;
                  await visit(readDeadLetter(batch.partition, message), message);
                  visited++;
                  range.next = offset + 1;
                }
              } finally {
                // Once per batch, also when a visit failed: a redrive cut short (the process killed) publishes at
                // most this batch's letters again, which consumers drop by their event id.
                if (options.commit && range.next > from) {
                  await setGroupOffsets(kafka, REDRIVE_GROUP, [
                    { topic, partitions: [{ partition: batch.partition, offset: String(range.next) }] },
                  ]);
                }
              }
              if (finishedAll()) resolve();
            },
          })
          .then(() => {
            for (const [partition, range] of ranges) consumer.seek({ topic, partition, offset: String(range.next) });
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await admin.disconnect();
  }
  return visited;
}

/** The dead letters not yet redriven, oldest first per partition, at most `limit`. */
export async function showDeadLetters(kafka: Kafka, topic: string, limit = 20): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  await visitPending(kafka, deadLetterTopicOf(topic), async (letter) => void letters.push(letter), {
    commit: false,
    limit,
  });
  return letters;
}

/**
 * Moves every pending dead letter back to its original topic with its original key, value and headers (the
 * dlq_* ones removed), and records the position after each one. Consumers that processed an event already
 * ignore it again (their inbox), so a redrive twice over, or of an event only one group failed, doubles nothing.
 */
export async function redriveDeadLetters(kafka: Kafka, topic: string): Promise<RedriveSummary> {
  const dlq = deadLetterTopicOf(topic);
  const target = dlq.slice(0, -DLQ_SUFFIX.length);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  let redriven = 0;
  let skipped = 0;
  try {
    await visitPending(
      kafka,
      dlq,
      async (letter, message) => {
        if (letter.original.topic !== target) {
          skipped++;
          return;
        }
        const headers: IHeaders = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (!name.startsWith('dlq_') && value !== undefined) headers[name] = value;
        }
        headers.mlops_redriven_from = `${dlq}/${letter.partition}/${letter.offset}`;
        await producer.send({
          topic: target,
          acks: -1,
          messages: [{ key: message.key, value: message.value, headers }],
        });
        redriven++;
      },
      { commit: true },
    );
  } finally {
    await producer.disconnect();
  }
  return { topic: dlq, redriven, skipped };
}
