import type { Kafka } from 'kafkajs';

/** Where a consumer group is to start on one topic: an offset per partition. */
export interface TopicStart {
  readonly topic: string;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string }>;
}

/**
 * Commits the offsets a consumer group with no members starts from, on every topic at once (a new group of a test, a
 * replica's replay group, a subscription): a member of a moment joins, commits them and leaves.
 *
 * kafkajs' admin.setOffsets does the same one topic at a time, and each time waits out an empty fetch of the
 * consumer's default maxWaitTime (5 s); here the member joins once and its fetch wait is a few milliseconds.
 */
export async function setGroupOffsets(kafka: Kafka, groupId: string, starts: readonly TopicStart[]): Promise<void> {
  const wanted = starts.filter((start) => start.partitions.length > 0);
  if (wanted.length === 0) return;
  const topics = wanted.map((start) => start.topic);
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 10, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    const { state } = await consumer.describeGroup();
    if (state !== 'Empty' && state !== 'Dead')
      throw new Error(
        `consumer group ${groupId} has members (state ${state}): its offsets are set only while it has none`,
      );
    let assigned: Record<string, number[]> = {};
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => (assigned = payload.memberAssignment));
    await new Promise<void>((resolve, reject) => {
      // The seeks are committed (auto-commit) in the first fetch round after the join, before its wait.
      consumer.on(consumer.events.FETCH, () => void consumer.stop().then(resolve, reject));
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined }).catch(reject);
      consumer.pause(topics.map((topic) => ({ topic })));
      for (const { topic, partitions } of wanted)
        for (const { partition, offset } of partitions) consumer.seek({ topic, partition, offset });
    });
    // A member that joined after the check took partitions: their seeks were dropped, so say which.
    const missed = wanted.flatMap(({ topic, partitions }) =>
      partitions
        .filter(({ partition }) => !assigned[topic]?.includes(partition))
        .map((p) => `${topic}[${p.partition}]`),
    );
    if (missed.length > 0)
      throw new Error(
        `consumer group ${groupId} gained a member while its offsets were set: ${missed.join(', ')} not positioned`,
      );
  } finally {
    await consumer.disconnect();
  }
}
