// setGroupOffsets against a stand-in consumer that plays kafkajs' part (the real broker is in messaging's
// group-offsets.it): what it seeks, and the member that joined meanwhile and took partitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import { setGroupOffsets } from '../src';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', FETCH: 'consumer.fetch' } as const;

/** A kafkajs stand-in whose consumer joins with `assignment`, then fetches once; it records seeks and disconnects. */
function fakeKafka(assignment: Record<string, number[]>, state = 'Empty') {
  const seeks: Array<{ topic: string; partition: number; offset: string }> = [];
  let disconnected = false;
  const kafka = {
    consumer: () => {
      const emitter = new EventEmitter();
      return {
        events: EVENTS,
        on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
        connect: async () => undefined,
        subscribe: async () => undefined,
        describeGroup: async () => ({ state }),
        run: async () => {
          await new Promise((resolve) => setImmediate(resolve));
          emitter.emit(EVENTS.GROUP_JOIN, { payload: { memberAssignment: assignment } });
          emitter.emit(EVENTS.FETCH, {});
        },
        pause: () => undefined,
        seek: (seek: { topic: string; partition: number; offset: string }) => seeks.push(seek),
        stop: async () => undefined,
        disconnect: async () => {
          disconnected = true;
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, seeks, disconnected: () => disconnected };
}

const starts = [
  {
    topic: 'a',
    partitions: [
      { partition: 0, offset: '5' },
      { partition: 1, offset: '7' },
    ],
  },
  { topic: 'b', partitions: [{ partition: 0, offset: '2' }] },
];

test('seeks every partition of every topic once, with its member holding them all, and leaves', async () => {
  const fake = fakeKafka({ a: [0, 1], b: [0] });
  await setGroupOffsets(fake.kafka, 'g', starts);
  assert.deepEqual(fake.seeks, [
    { topic: 'a', partition: 0, offset: '5' },
    { topic: 'a', partition: 1, offset: '7' },
    { topic: 'b', partition: 0, offset: '2' },
  ]);
  assert.equal(fake.disconnected(), true);
});

test('a member that joined meanwhile and took partitions: an error names the partitions not positioned', async () => {
  const fake = fakeKafka({ a: [0], b: [] });
  await assert.rejects(
    setGroupOffsets(fake.kafka, 'g', starts),
    /consumer group g gained a member while its offsets were set: a\[1\], b\[0\] not positioned/,
  );
  assert.equal(fake.disconnected(), true);
});

test('a group with members is refused before any seek', async () => {
  const fake = fakeKafka({ a: [0, 1], b: [0] }, 'Stable');
  await assert.rejects(setGroupOffsets(fake.kafka, 'g', starts), /has members \(state Stable\)/);
  assert.deepEqual(fake.seeks, []);
});

test('nothing to position: no member joins at all', async () => {
  let asked = false;
  const kafka = {
    consumer: () => {
      asked = true;
      throw new Error('no consumer expected');
    },
  } as unknown as Kafka;
  await setGroupOffsets(kafka, 'g', [{ topic: 'a', partitions: [] }]);
  assert.equal(asked, false);
});
