import type { Kafka } from 'kafkajs';
import { setGroupOffsets } from '@mlops/config';

/**
 * Commits, for a consumer group with no members yet, the current end of each topic: the group then
 * sees only what is published from now on, with no race against the first fetch (tests, benchmarks,
 * a replica that must not replay history).
 */
export async function startGroupAtEnd(kafka: Kafka, groupId: string, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const starts = await Promise.all(
      topics.map(async (topic) => ({
        topic,
        partitions: (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: o.high })),
      })),
    );
    await setGroupOffsets(kafka, groupId, starts);
  } finally {
    await admin.disconnect();
  }
}
