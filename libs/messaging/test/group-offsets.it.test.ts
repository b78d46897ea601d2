// Where a new consumer group starts (setGroupOffsets, startGroupAtEnd, positionGroupAt), against the real broker: the
// offsets committed per partition, what the group then reads, and a group with members left as it is.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Consumer } from 'kafkajs';
import { setGroupOffsets } from '@mlops/config';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import { positionGroupAt } from '@mlops/testing';
import { newEvent, startGroupAtEnd } from '../src';
import { eventually, newProducer, testKafka, uid } from './support';

const kafka = testKafka('group-offsets-it');
const TOPICS = [EventTypes.TrainingRequestedV1, EventTypes.ModelDegradedV1] as const;
const consumers: Consumer[] = [];
after(async () => {
  for (const consumer of consumers) await consumer.disconnect();
});

/** Per topic and partition, the group's committed offset ('-1' for none). */
async function committed(groupId: string): Promise<Record<string, Record<number, string>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.fetchOffsets({ groupId, topics: [...TOPICS] });
    return Object.fromEntries(
      topics.map(({ topic, partitions }) => [
        topic,
        Object.fromEntries(partitions.map((p) => [p.partition, p.offset])),
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

async function ends(): Promise<Record<string, Array<{ partition: number; low: string; high: string }>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return Object.fromEntries(await Promise.all(TOPICS.map(async (t) => [t, await admin.fetchTopicOffsets(t)])));
  } finally {
    await admin.disconnect();
  }
}

test('setGroupOffsets commits the given offset of every partition of every topic, in one go', async () => {
  const groupId = uid('offsets');
  const before = await ends();
  // Each partition at its start, except partition 0 of the first topic, at its end.
  const starts = TOPICS.map((topic) => ({
    topic,
    partitions: before[topic]!.map((p) => ({
      partition: p.partition,
      offset: topic === TOPICS[0] && p.partition === 0 ? p.high : p.low,
    })),
  }));
  await setGroupOffsets(kafka, groupId, starts);
  assert.deepEqual(
    await committed(groupId),
    Object.fromEntries(
      starts.map(({ topic, partitions }) => [
        topic,
        Object.fromEntries(partitions.map(({ partition, offset }) => [partition, offset])),
      ]),
    ),
  );
});

test('startGroupAtEnd: the group commits each partition at its end and reads only what is published after', async () => {
  const groupId = uid('at-end');
  const before = await ends();
  await startGroupAtEnd(kafka, groupId, TOPICS);
  const after = await ends();
  const offsets = await committed(groupId);
  for (const topic of TOPICS)
    for (const { partition, high } of before[topic]!) {
      const at = BigInt(offsets[topic]![partition]!);
      const end = BigInt(after[topic]!.find((p) => p.partition === partition)!.high);
      assert.ok(at >= BigInt(high) && at <= end, `${topic} [${partition}] at ${at}, the end was ${high}..${end}`);
    }

  const { producer } = newProducer(kafka);
  await producer.connect();
  const subject = uid('after');
  const event = newEvent(TOPICS[0], exampleEventData(TOPICS[0]), { source: 'urn:mlops:test', key: subject, subject });
  try {
    await producer.publish(event);
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  consumers.push(consumer);
  const read: Array<{ topic: string; partition: number; offset: string; id: string | undefined }> = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [...TOPICS], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      read.push({ topic, partition, offset: message.offset, id: message.headers?.['ce_id']?.toString() });
    },
  });
  await eventually(() => read.some((m) => m.id === event.id), 'the event published after');
  for (const m of read) {
    const start = BigInt(offsets[m.topic]![m.partition]!);
    assert.ok(BigInt(m.offset) >= start, `${m.topic} [${m.partition}] ${m.offset} was there before the group`);
  }
});

test('positionGroupAt starts a group at the first message at or after a time, on every topic', async () => {
  const groupId = uid('at-time');
  await positionGroupAt(kafka, groupId, TOPICS, 0);
  const before = await ends();
  const offsets = await committed(groupId);
  for (const topic of TOPICS)
    for (const { partition, low } of before[topic]!)
      assert.equal(offsets[topic]![partition], low, `${topic} [${partition}]`);
});

test('a group with a member is refused, and its offsets stay where they were', async () => {
  const groupId = uid('busy');
  await startGroupAtEnd(kafka, groupId, TOPICS);
  const was = await committed(groupId);
  const member = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  consumers.push(member);
  let joined = false;
  member.on(member.events.GROUP_JOIN, () => (joined = true));
  await member.connect();
  await member.subscribe({ topics: [...TOPICS], fromBeginning: true });
  await member.run({ eachMessage: async () => undefined });
  await eventually(() => joined, 'the member to join');

  const starts = TOPICS.map((topic) => ({ topic, partitions: [{ partition: 0, offset: '0' }] }));
  await assert.rejects(setGroupOffsets(kafka, groupId, starts), /has members \(state Stable\)/);
  await member.disconnect();
  const now = await committed(groupId);
  for (const topic of TOPICS)
    for (const [partition, offset] of Object.entries(was[topic]!))
      assert.ok(BigInt(now[topic]![Number(partition)]!) >= BigInt(offset), `${topic} [${partition}] did not go back`);
});
