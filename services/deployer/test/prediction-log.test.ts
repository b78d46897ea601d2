// The prediction log with a fake producer: batches off the request path, a bounded buffer, drops counted.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { PredictionLoggedV1 } from '@mlops/contracts';
import type { CloudEvent, EventProducer } from '@mlops/messaging';
import { PredictionLog } from '../src/infrastructure/prediction-log';
import { WorkerSender, producerSender } from '../src/infrastructure/prediction-log-sender';
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
    producerSender(producer as unknown as EventProducer, 'urn:test'),
    metrics,
    { enabled: true, capacity, batchSize: 3, flushMs: 5, instanceId: 'deployer-test' },
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

test('a batch whose sending thread dies goes back in the buffer, and the next send starts a new thread', async () => {
  // A sending thread that exits on its first batch, once: the marker file says it already did.
  const dir = mkdtempSync(path.join(tmpdir(), 'log-worker-'));
  const marker = path.join(dir, 'died-once');
  const script = path.join(dir, 'worker.js');
  writeFileSync(
    script,
    `const { parentPort } = require('node:worker_threads'); const fs = require('node:fs');
     parentPort.on('message', (m) => {
       if (m.type === 'close') process.exit(0);
       if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, ''); process.exit(3); }
       parentPort.postMessage({ id: m.id, count: m.batch.length, ids: m.batch.map((e) => e.requestId) });
     });`,
  );
  let produced = 0;
  const sender = new WorkerSender(
    {
      clientId: 'test',
      brokers: ['127.0.0.1:1'],
      security: {},
      maxEventBytes: 1_000_000,
      source: 'urn:test',
      contentMode: 'structured',
      onProduced: (count) => (produced += count),
    },
    script,
  );
  const metrics = new ServingMetrics(new Registry());
  const log = new PredictionLog(
    sender,
    metrics,
    { enabled: true, capacity: 100, batchSize: 10, flushMs: 5, instanceId: 'deployer-test' },
    { warn: () => undefined },
  );
  log.start();
  log.record([1, 2, 3].map(entry));
  const deadline = Date.now() + 5_000;
  while (log.sent < 3 && Date.now() < deadline) await sleep(10);
  assert.equal(log.sent, 3, 'the batch was sent again by a new thread');
  assert.equal(produced, 3);
  assert.equal(log.dropped, 0);
  assert.ok(existsSync(marker), 'the first thread died on the batch');
  await log.drain();
});

test('a Kafka failure reported by the sending thread keeps the batch; a refused event drops it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'log-worker-'));
  const script = path.join(dir, 'worker.js');
  // The first batch fails as Kafka's connection errors do, the second as a schema refusal, the rest are sent.
  writeFileSync(
    script,
    `const { parentPort } = require('node:worker_threads'); let n = 0;
     parentPort.on('message', (m) => {
       if (m.type === 'close') process.exit(0);
       n++;
       if (n === 1) parentPort.postMessage({ id: m.id, error: { name: 'KafkaJSConnectionError', message: 'down' } });
       else if (n === 2) parentPort.postMessage({ id: m.id, error: { name: 'Error', message: 'data/output must be object' } });
       else parentPort.postMessage({ id: m.id, count: m.batch.length });
     });`,
  );
  const warnings: string[] = [];
  const sender = new WorkerSender(
    {
      clientId: 't',
      brokers: [],
      security: {},
      maxEventBytes: 1,
      source: 'urn:test',
      contentMode: 'structured',
      onProduced: () => undefined,
    },
    script,
  );
  const log = new PredictionLog(
    sender,
    new ServingMetrics(new Registry()),
    { enabled: true, capacity: 100, batchSize: 2, flushMs: 5, instanceId: 'deployer-test' },
    { warn: (message) => warnings.push(message) },
  );
  log.start();
  log.record([1, 2, 3, 4].map(entry));
  const deadline = Date.now() + 5_000;
  while (log.sent + log.dropped < 4 && Date.now() < deadline) await sleep(10);
  // Batch [1,2] failed on Kafka and came back; sent again it met the refusal and was dropped; [3,4] were sent.
  assert.equal(log.dropped, 2);
  assert.equal(log.sent, 2);
  assert.match(warnings.join('\n'), /a batch of 2 refused: data\/output must be object/);
  await log.drain();
});
