// The prediction log with a fake producer: batches off the request path, a bounded buffer, drops counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { PredictionLoggedV1 } from '@mlops/contracts';
import type { CloudEvent, EventProducer } from '@mlops/messaging';
import { PredictionLog } from '../src/infrastructure/prediction-log';
import { ServingMetrics } from '../src/infrastructure/serving-metrics';

function entry(i: number): PredictionLoggedV1 {
  return {
    requestId: `req-${i}`,
    model: 'churn',
    alias: 'production',
    version: 1,
    entityId: `c-${i}`,
    features: { a: i },
    missingFeatures: [],
    output: { value: 0.5 },
    latencyMs: 1,
    channel: 'http',
    servingRole: 'primary',
    timestamp: new Date().toISOString(),
  };
}

class FakeProducer {
  down = false;
  batches: string[][] = [];
  resources: Array<PredictionLoggedV1['resources']> = [];
  publishMany(events: readonly CloudEvent[]): Promise<void> {
    if (this.down) {
      const error = new Error('broker down');
      error.name = 'KafkaJSConnectionError';
      return Promise.reject(error);
    }
    this.batches.push(events.map((event) => (event.data as PredictionLoggedV1).requestId));
    this.resources.push(...events.map((event) => (event.data as PredictionLoggedV1).resources));
    return Promise.resolve();
  }
}

function logWith(producer: FakeProducer, capacity: number, warnings: string[] = []) {
  const metrics = new ServingMetrics(new Registry());
  const log = new PredictionLog(
    producer as unknown as EventProducer,
    metrics,
    { enabled: true, capacity, batchSize: 3, flushMs: 5, source: 'urn:test', instanceId: 'deployer-test' },
    { warn: (message) => warnings.push(message) },
  );
  return { log, metrics };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('predictions are sent in batches, in order, after record returned', async () => {
  const producer = new FakeProducer();
  const { log } = logWith(producer, 100);
  log.start();
  log.record([1, 2, 3, 4, 5].map(entry));
  assert.equal(producer.batches.length, 0);
  await sleep(50);
  assert.deepEqual(producer.batches, [
    ['req-1', 'req-2', 'req-3'],
    ['req-4', 'req-5'],
  ]);
  await log.drain();
});

test('with Kafka down the buffer holds up to its bound; what is beyond is dropped, counted and logged', async () => {
  const producer = new FakeProducer();
  producer.down = true;
  const warnings: string[] = [];
  const { log, metrics } = logWith(producer, 4, warnings);
  log.start();
  log.record([1, 2, 3].map(entry));
  await sleep(30);
  log.record([4, 5, 6].map(entry));
  await sleep(30);
  assert.equal(log.buffered, 4);
  assert.equal(log.dropped, 2);
  assert.equal((await metrics.logDropped.get()).values[0]?.value, 2);
  assert.match(warnings.join('\n'), /2 predictions dropped/);
  producer.down = false;
  await sleep(50);
  assert.deepEqual(producer.batches.flat(), ['req-1', 'req-2', 'req-3', 'req-4']);
  await log.drain();
});

test('every logged prediction carries its process sample: instance, cumulative CPU seconds, resident memory', async () => {
  const producer = new FakeProducer();
  const { log } = logWith(producer, 100);
  log.start();
  log.record([1, 2, 3, 4].map(entry));
  await sleep(50);
  const before = process.cpuUsage();
  while (process.cpuUsage(before).user < 30_000); // 30 ms of CPU used between the two sends
  log.record([5].map(entry));
  await log.drain();
  const [first, , third, fourth, fifth] = producer.resources;
  assert.equal(producer.resources.length, 5);
  assert.equal(first?.instanceId, 'deployer-test');
  assert.deepEqual(third, first, 'one sample per batch');
  assert.ok(fourth!.cpuSeconds >= first!.cpuSeconds, 'cumulative CPU never goes back');
  assert.ok(
    fifth!.cpuSeconds - first!.cpuSeconds >= 0.02,
    `30 ms of busy CPU counted (${fifth!.cpuSeconds - first!.cpuSeconds} s)`,
  );
  assert.ok(first!.rssBytes > 10_000_000, `resident memory in bytes (${first!.rssBytes})`);
});
