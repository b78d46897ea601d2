// The batches of several partitions that kafkajs hands over together share one inbox transaction; a handler failure in
// one partition's group does not cost the others anything. The runner's batch handler is driven directly with batches
// built here (a real broker cannot be made to put two partitions in one fetch on demand); Postgres is the real one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import { type CloudEvent, type EventConsumerRunner, encodeEvent, newEvent } from '../src';
import { runnerFixture, uid } from './support';

const REQUESTED = EventTypes.TrainingRequestedV1;
const fx = runnerFixture('messaging-shared-tx');

const runner = (name: string): EventConsumerRunner =>
  fx.runner(name, { retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20 } });

function events(subject: string, count: number): Array<CloudEvent<typeof REQUESTED>> {
  return Array.from({ length: count }, () =>
    newEvent(REQUESTED, exampleEventData(REQUESTED), { source: 'urn:mlops:test', key: subject, subject }),
  );
}

/** One partition's batch as kafkajs hands it over, and the offsets the runner resolved in it. */
function batchOf(
  partition: number,
  batchEvents: readonly CloudEvent[],
  commit: () => Promise<void> = async () => undefined,
): { payload: EachBatchPayload; resolved: string[] } {
  const resolved: string[] = [];
  const messages: KafkaMessage[] = batchEvents.map((event, i) => {
    const encoded = encodeEvent(event);
    return {
      key: Buffer.from(encoded.key),
      value: encoded.value,
      headers: encoded.headers,
      offset: String(i),
      timestamp: String(Date.now()),
      attributes: 0,
    } as KafkaMessage;
  });
  const payload = {
    batch: { topic: REQUESTED, partition, highWatermark: String(messages.length), messages },
    resolveOffset: (offset: string) => resolved.push(offset),
    heartbeat: async () => undefined,
    commitOffsetsIfNecessary: commit,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  return { payload, resolved };
}

function eachBatch(r: EventConsumerRunner, payload: EachBatchPayload): Promise<void> {
  return (r as unknown as { eachBatch(p: EachBatchPayload): Promise<void> }).eachBatch(payload);
}

test('the batches of partitions handed over together share one inbox transaction', async () => {
  const name = uid('shared');
  const r = runner(name);
  const transactions = new Set<readonly CloudEvent[]>();
  r.on(REQUESTED, async (event, ctx) => {
    transactions.add(ctx.transactionEvents!);
    await fx.recordEffect(ctx.manager!, event.id, name);
  });
  const [first, second] = [events(uid('p0'), 3), events(uid('p1'), 2)];
  const batches = [batchOf(0, first), batchOf(1, second)];
  await Promise.all(batches.map((b) => eachBatch(r, b.payload)));

  assert.equal(transactions.size, 1, 'one transaction for both partitions');
  assert.deepEqual(
    [...transactions][0]!.map((e) => e.id),
    [...first, ...second].map((e) => e.id),
  );
  assert.deepEqual(await fx.effectsOf(name), [...first, ...second].map((e) => e.id).sort());
  assert.deepEqual(batches[0]!.resolved, ['0', '1', '2']);
  assert.deepEqual(batches[1]!.resolved, ['0', '1']);
});

test('a failing handler in one partition: the other partition is applied once, the failing event dead-lettered', async () => {
  const name = uid('shared-fail');
  const r = runner(name);
  const [good, bad] = [events(uid('good'), 3), events(uid('bad'), 3)];
  const doomed = bad[1]!.id;
  let calls = 0;
  /** Per event, how many events shared the transaction of its last (the committed) call. */
  const sharedWith = new Map<string, number>();
  r.on(REQUESTED, async (event, ctx) => {
    calls++;
    sharedWith.set(event.id, ctx.transactionEvents!.length);
    if (event.id === doomed) throw new Error('this event can never be handled');
    await fx.recordEffect(ctx.manager!, event.id, name);
  });
  const batches = [batchOf(0, good), batchOf(1, bad)];
  await Promise.all(batches.map((b) => eachBatch(r, b.payload)));

  const applied = await fx.effectsOf(name);
  assert.deepEqual(applied, [...good.map((e) => e.id), bad[0]!.id, bad[2]!.id].sort(), 'every other event once');
  assert.deepEqual(
    good.map((e) => sharedWith.get(e.id)),
    [3, 3, 3],
    'the good partition runs again as a group of its own, not event by event',
  );
  assert.deepEqual(batches[0]!.resolved, ['0', '1', '2']);
  assert.deepEqual(batches[1]!.resolved, ['0', '1', '2'], 'the failing event is dead-lettered, its offset moves on');
  // The shared try (3 good, then 2 bad up to the failure), the good partition alone again (3), the failing partition
  // event by event (the first, one more attempt at the doomed one, the last).
  assert.equal(calls, 5 + 3 + 3);
});

/** A commitOffsetsIfNecessary that records, at each call, the offsets the batches had resolved by then. */
function commitSpy(batches: () => ReadonlyArray<{ resolved: string[] }>): {
  commit: () => Promise<void>;
  commits: string[][][];
} {
  const commits: string[][][] = [];
  return {
    commits,
    commit: async () => {
      commits.push(batches().map((b) => [...b.resolved]));
    },
  };
}

test('the batches of partitions that end together commit their offsets once, after all of them resolved', async () => {
  const name = uid('one-commit');
  const r = runner(name);
  r.on(REQUESTED, async (event, ctx) => fx.recordEffect(ctx.manager!, event.id, name));
  const batches: Array<{ payload: EachBatchPayload; resolved: string[] }> = [];
  const spy = commitSpy(() => batches);
  batches.push(
    batchOf(0, events(uid('c0'), 2), spy.commit),
    batchOf(1, events(uid('c1'), 3), spy.commit),
    batchOf(2, events(uid('c2'), 2), spy.commit),
  );
  await Promise.all(batches.map((b) => eachBatch(r, b.payload)));

  assert.deepEqual(
    spy.commits,
    [
      [
        ['0', '1'],
        ['0', '1', '2'],
        ['0', '1'],
      ],
    ],
    'one commit, with every offset resolved',
  );
});

test('a batch ending while a commit is in flight gets a commit of its own after it', async () => {
  const name = uid('next-commit');
  const r = runner(name);
  r.on(REQUESTED, async (event, ctx) => fx.recordEffect(ctx.manager!, event.id, name));
  const batches: Array<{ payload: EachBatchPayload; resolved: string[] }> = [];
  let releaseFirst!: () => void;
  const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
  let firstCommitStarted!: () => void;
  const firstCommitting = new Promise<void>((resolve) => (firstCommitStarted = resolve));
  const commits: string[][][] = [];
  const commit = async (): Promise<void> => {
    commits.push(batches.map((b) => [...b.resolved]));
    if (commits.length === 1) {
      firstCommitStarted();
      await firstHeld; // the broker is slow to answer the first commit
    }
  };
  batches.push(batchOf(0, events(uid('n0'), 2), commit));
  const first = eachBatch(r, batches[0]!.payload);
  // The batch's inbox transaction is a real one: wait for its commit (or for the batch to end without one).
  await Promise.race([firstCommitting, first]);
  assert.equal(commits.length, 1, 'the first batch commits its offsets');
  batches.push(batchOf(1, events(uid('n1'), 2), commit));
  const second = eachBatch(r, batches[1]!.payload);
  let secondDone = false;
  void second.then(() => (secondDone = true));
  // Wait until the second batch resolved its offsets (its transaction committed), then give it more turns to commit.
  const deadline = Date.now() + 10_000;
  while (batches[1]!.resolved.length < 2 && !secondDone && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.deepEqual(batches[1]!.resolved, ['0', '1'], 'the second batch is applied');
  for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(secondDone, false, 'its offsets are not committed while the first commit is in flight');
  assert.equal(commits.length, 1, 'no second commit starts while the first is in flight');
  releaseFirst();
  await Promise.all([first, second]);

  assert.deepEqual(
    commits,
    [
      [['0', '1']],
      [
        ['0', '1'],
        ['0', '1'],
      ],
    ],
    "the second commit carries the second batch's offsets",
  );
});
