/**
 * Records/s from HTTP batches of 100 through the ingestion service (parse, ajv validation against the
 * dataset's schema, sensitive-field hashing, CloudEvents to mlops.data.validated.v1 with acks=all), beside
 * raw kafkajs batched produce of the same records to a bench topic with as many partitions, in the same run
 * (never to the validated topic itself: its consumers would dead-letter records that are not CloudEvents).
 * The HTTP clients run in a worker thread. Bounded: BENCH_RECORDS records per path (default 20000),
 * BENCH_CONCURRENCY requests in flight (default 4).
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { createTokenWithRoles } from '@mlops/auth';
import { kafkaSecurity, loadConfig } from '@mlops/config';
import { EventTypes, TOPIC_SPECS } from '@mlops/contracts';
import { IngestionConfigSpec, createIngestionApp } from '@mlops/ingestion';
import { encodeEvent, newEvent } from '@mlops/messaging';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 20_000);
const BATCH = 100;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const BASELINE_TOPIC = 'bench.ingest.baseline';

const dataset = `bench_ingest_${randomUUID().slice(0, 8)}`;
/** The in-process service's admin token, this run only: the bench creates its role tokens with it, as a user would. */
const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const definition = {
  role: 'features',
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
  sensitiveFields: { email: 'hash' },
  recordSchema: {
    type: 'object',
    required: ['customer_id', 'event_time', 'tenure_days', 'plan'],
    additionalProperties: false,
    properties: {
      customer_id: { type: 'string' },
      event_time: { type: 'string', format: 'date-time' },
      email: { type: ['string', 'null'], format: 'email' },
      tenure_days: { type: 'integer', minimum: 0 },
      monthly_spend: { type: ['number', 'null'], minimum: 0 },
      plan: { enum: ['basic', 'premium', 'enterprise'] },
    },
  },
};

function record(i: number): Record<string, unknown> {
  return {
    customer_id: `c-${i % 5_000}`,
    event_time: new Date(Date.UTC(2025, 10, 1) + i * 1_000).toISOString(),
    email: `user${i}@example.com`,
    tenure_days: i % 900,
    monthly_spend: (i % 300) + 0.5,
    plan: ['basic', 'premium', 'enterprise'][i % 3],
  };
}

async function pool<T>(items: T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

/** CONCURRENCY clients POSTing the bodies in a worker thread; answers the accepted count and the seconds taken. */
const HTTP_LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { url, bodies, concurrency, token } = workerData;
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
        body: bodies[next++],
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error('ingest answered ' + res.status + ': ' + text.slice(0, 300));
      accepted += JSON.parse(text).results.filter((r) => r.status === 'accepted').length;
    }
  }));
  parentPort.postMessage({ accepted, seconds: (performance.now() - started) / 1000 });
})().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;

function httpLoad(
  url: string,
  bodies: string[],
  concurrency: number,
  token: string,
): Promise<{ accepted: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(HTTP_LOAD, { eval: true, workerData: { url, bodies, concurrency, token } });
    worker.once('message', (m: { accepted: number; seconds: number; error?: string }) => {
      void worker.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const config = loadConfig('ingestion', IngestionConfigSpec, {
    ...process.env,
    HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
    AUTH_ADMIN_TOKEN: ADMIN_TOKEN,
    INGESTION_HASH_KEY: 'bench-hash-key-0123456789abcdef0123456789',
  });
  const records = Array.from({ length: RECORDS }, (_, i) => record(i));
  const batches = Array.from({ length: Math.ceil(RECORDS / BATCH) }, (_, b) =>
    records.slice(b * BATCH, (b + 1) * BATCH),
  );
  console.log(`bench/ingest: ${RECORDS} records in HTTP batches of ${BATCH}, ${CONCURRENCY} requests in flight`);

  // Baseline: the same records as JSON, batched produce with acks=all to a topic shaped like the validated one.
  const kafka = new Kafka({
    clientId: 'bench-ingest',
    brokers: config.KAFKA_BROKERS,
    ...kafkaSecurity(config, 'bench-ingest'),
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  const partitions = TOPIC_SPECS.find((t) => t.name === EventTypes.DataValidatedV1)?.partitions ?? 6;
  await admin.createTopics({
    topics: [{ topic: BASELINE_TOPIC, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let started = performance.now();
  await pool(batches, CONCURRENCY, async (batch) => {
    await producer.send({
      topic: BASELINE_TOPIC,
      acks: -1,
      messages: batch.map((r) => ({ key: `${dataset}/${String(r.customer_id)}`, value: JSON.stringify(r) })),
    });
  });
  const raw = RECORDS / ((performance.now() - started) / 1000);
  // Second baseline: the same records as the platform's messages (CloudEvents binary mode: data.validated.v1
  // data as the value, the ce_* headers), produced raw. The gap to the first is the cost of the event format.
  const encoded = batches.map((batch) =>
    batch.map((r) => {
      const entityId = String(r.customer_id);
      const event = newEvent(
        EventTypes.DataValidatedV1,
        {
          dataset,
          datasetVersion: 1,
          role: 'features',
          entityId,
          eventTime: String(r.event_time),
          record: r as Record<string, string | number | boolean | null>,
          sourceEventId: randomUUID(),
          validatedAt: new Date().toISOString(),
        },
        { source: 'urn:mlops:bench', subject: dataset },
      );
      const m = encodeEvent(event);
      return { key: m.key, value: m.value, headers: m.headers };
    }),
  );
  started = performance.now();
  await pool(encoded, CONCURRENCY, async (messages) => {
    await producer.send({ topic: BASELINE_TOPIC, acks: -1, messages });
  });
  const rawEvents = RECORDS / ((performance.now() - started) / 1000);
  await producer.disconnect();

  const app = await createIngestionApp(config);
  await app.listen(0, '127.0.0.1');
  try {
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const steward = await createTokenWithRoles(base, ADMIN_TOKEN, 'data-steward', `bench-steward-${dataset}`);
    const producerToken = await createTokenWithRoles(base, ADMIN_TOKEN, 'producer', `bench-producer-${dataset}`);
    const registered = await fetch(`${base}/datasets/${dataset}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${steward}` },
      body: JSON.stringify(definition),
    });
    if (registered.status !== 201)
      throw new Error(`dataset registration failed: ${registered.status} ${await registered.text()}`);
    // The HTTP clients run in a worker thread, as they would elsewhere: the service's event loop is its own.
    const { accepted, seconds } = await httpLoad(
      `${base}/datasets/${dataset}/records`,
      batches.map((batch) => JSON.stringify(batch)),
      CONCURRENCY,
      producerToken,
    );
    const platform = RECORDS / seconds;
    if (accepted !== RECORDS) throw new Error(`only ${accepted} of ${RECORDS} records were accepted`);
    console.log(`raw kafkajs batched produce (acks=all)      ${raw.toFixed(0).padStart(8)} records/s`);
    console.log(`  same, as CloudEvents (value + ce_ headers) ${rawEvents.toFixed(0).padStart(7)} records/s`);
    console.log(`HTTP -> validate -> data.validated.v1       ${platform.toFixed(0).padStart(8)} records/s`);
    console.log(`ratio ingest/raw                            ${(platform / raw).toFixed(3).padStart(8)}`);
    console.log(`ratio ingest/raw CloudEvents                ${(platform / rawEvents).toFixed(3).padStart(8)}`);
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
