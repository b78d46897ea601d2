import type { Kafka } from 'kafkajs';

/**
 * Commits, for a consumer group with no members yet, the current end of each topic: the group then
 * sees only what is published from now on, with no race against the first fetch (tests, benchmarks,
 * a replica that must not replay history).
 */
export async function startGroupAtEnd(kafka: Kafka, groupId: string, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({
        groupId,
        topic,
        partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
