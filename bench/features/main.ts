/**
 * Materialization: records/s from ingestion's HTTP API through validation, the validated topic, the
 * feature store's computation (windowed aggregates, state in Postgres, offline row in ClickHouse) to the
 * online vector on mlops.features.materialized.v1; and freshness, the time from a record's HTTP
 * acceptance to its materialized vector (p50/p99). Both services run in this process, each a Nest app.
 * Baseline in the same run: the validated events alone read back by a raw kafkajs consumer.
 * Bounded: BENCH_RECORDS (default 5000) in HTTP batches of 100, at most BENCH_TIMEOUT_S seconds.
 */
import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createTokenWithRoles } from '@mlops/auth';
import { kafkaKeys, kafkaSecurity, loadConfig } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';
import { FeatureStoreConfigSpec, createFeatureStoreApp } from '@mlops/feature-store';
import { IngestionConfigSpec, createIngestionApp } from '@mlops/ingestion';
import { startGroupAtEnd } from '@mlops/messaging';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 5_000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 180) * 1000;
const BATCH = 100;
const run = randomUUID().slice(0, 8);
const dataset = `bench_feat_${run}`;
const view = `bench_view_${run}`;
/** The in-process services' admin token, this run only: the bench creates its role tokens with it, as a user would. */
const ADMIN_TOKEN = randomBytes(32).toString('base64url');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const env = { ...process.env, HTTP_PORT: '0', LOG_LEVEL: 'warn' as const, AUTH_ADMIN_TOKEN: ADMIN_TOKEN };
  // Fresh groups positioned at the end of their topics: only this run's events are processed and timed.
  const connection = loadConfig('bench-features', kafkaKeys);
  const kafka = new Kafka({
    clientId: 'bench-features',
    brokers: connection.KAFKA_BROKERS,
    ...kafkaSecurity(connection, 'bench-features'),
    logLevel: logLevel.ERROR,
  });
  await startGroupAtEnd(kafka, `bench-ingestion-${run}`, [EventTypes.DataRecordV1]);
  await startGroupAtEnd(kafka, `bench-feature-store-${run}`, [
    EventTypes.DatasetRegisteredV1,
    EventTypes.DataValidatedV1,
    EventTypes.DatasetSnapshotRequestedV1,
  ]);
  await startGroupAtEnd(kafka, `bench-features-${run}`, [EventTypes.FeaturesMaterializedV1]);
  await startGroupAtEnd(kafka, `bench-features-baseline-${run}`, [EventTypes.DataValidatedV1]);
  const ingestion = await createIngestionApp(
    loadConfig('ingestion', IngestionConfigSpec, { ...env, CONSUMER_GROUP: `bench-ingestion-${run}` }),
  );
  const featureStore = await createFeatureStoreApp(
    loadConfig('feature-store', FeatureStoreConfigSpec, {
      ...env,
      CONSUMER_GROUP: `bench-feature-store-${run}`,
      CLICKHOUSE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'bench-features-')),
    }),
  );
  await ingestion.listen(0, '127.0.0.1');
  await featureStore.listen(0, '127.0.0.1');
  const url = (app: typeof ingestion) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const [ingest, features] = [url(ingestion), url(featureStore)];
  const consumer = kafka.consumer({ groupId: `bench-features-${run}` });
  const baseline = kafka.consumer({ groupId: `bench-features-baseline-${run}` });
  try {
    // Each app keeps its own copy of the tokens; these are made where they are used, so none waits for the event.
    const steward = await createTokenWithRoles(ingest, ADMIN_TOKEN, 'data-steward', `bench-steward-${run}`);
    const viewSteward = await createTokenWithRoles(features, ADMIN_TOKEN, 'data-steward', `bench-view-${run}`);
    const producerToken = await createTokenWithRoles(ingest, ADMIN_TOKEN, 'producer', `bench-producer-${run}`);
    const registered = await fetch(`${ingest}/datasets/${dataset}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${steward}` },
      body: JSON.stringify({
        role: 'features',
        entityKeyField: 'customer_id',
        eventTimeField: 'event_time',
        recordSchema: {
          type: 'object',
          required: ['customer_id', 'event_time', 'spend'],
          additionalProperties: false,
          properties: {
            customer_id: { type: 'string' },
            event_time: { type: 'string', format: 'date-time' },
            spend: { type: 'number', minimum: 0 },
          },
        },
      }),
    });
    if (registered.status !== 201)
      throw new Error(`dataset registration: ${registered.status} ${await registered.text()}`);
    const definition = {
      name: view,
      source: { dataset },
      ttl: 'P7D',
      features: [
        { kind: 'field', name: 'spend', field: 'spend' },
        { kind: 'log', name: 'log_spend', field: 'spend' },
        { kind: 'aggregate', name: 'spend_sum_1h', field: 'spend', function: 'sum', window: 'PT1H' },
        { kind: 'aggregate', name: 'orders_24h', field: 'spend', function: 'count', window: 'PT24H' },
      ],
    };
    // The feature store learns the dataset from its registered event: retry until it has.
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${features}/feature-views`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${viewSteward}` },
        body: JSON.stringify(definition),
      });
      if (res.status === 201) break;
      if (res.status !== 404 || attempt > 100) throw new Error(`feature view: ${res.status} ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const acceptedAt = new Map<string, number>();
    const acceptedTimes = new Map<string, number>();
    const freshness: number[] = [];
    let lastVectorAt = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: EventTypes.FeaturesMaterializedV1, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const data = JSON.parse(message.value?.toString() ?? '{}') as {
          featureView?: { name: string };
          entityId?: string;
          eventTime?: string;
        };
        if (data.featureView?.name !== view) return;
        const key = `${data.entityId}@${new Date(data.eventTime ?? 0).toISOString()}`;
        const accepted = acceptedAt.get(key);
        if (accepted !== undefined && acceptedAt.delete(key)) {
          freshness.push(performance.now() - accepted);
          lastVectorAt = performance.now();
        }
      },
    });
    // Baseline: the same records' validated events reaching a raw kafkajs consumer (the transport floor).
    const validatedSeen = new Map<string, number>();
    const transport: number[] = [];
    await baseline.connect();
    await baseline.subscribe({ topic: EventTypes.DataValidatedV1, fromBeginning: true });
    await baseline.run({
      eachMessage: async ({ message }) => {
        if (!message.key?.toString().startsWith(`${dataset}/`)) return;
        const data = JSON.parse(message.value?.toString() ?? '{}') as { entityId?: string; eventTime?: string };
        const key = `${data.entityId}@${new Date(data.eventTime ?? 0).toISOString()}`;
        validatedSeen.set(key, performance.now());
      },
    });

    const start = Date.UTC(2025, 10, 20);
    const records = Array.from({ length: RECORDS }, (_, i) => ({
      customer_id: `c-${i % 500}`,
      event_time: new Date(start + i * 1_000).toISOString(),
      spend: (i % 50) + 0.25,
    }));
    const started = performance.now();
    for (let b = 0; b < RECORDS; b += BATCH) {
      const batch = records.slice(b, b + BATCH);
      // Freshness counts from the moment the batch is sent: a vector may appear before the answer does.
      const sentAt = performance.now();
      for (const r of batch) {
        const key = `${r.customer_id}@${new Date(r.event_time).toISOString()}`;
        acceptedAt.set(key, sentAt);
        acceptedTimes.set(key, sentAt);
      }
      const res = await fetch(`${ingest}/datasets/${dataset}/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${producerToken}` },
        body: JSON.stringify(batch),
      });
      if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    const deadline = Date.now() + TIMEOUT_MS;
    while (freshness.length < RECORDS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - started) / 1000;
    for (const r of records) {
      const key = `${r.customer_id}@${new Date(r.event_time).toISOString()}`;
      const seen = validatedSeen.get(key);
      const accepted = acceptedTimes.get(key);
      if (seen !== undefined && accepted !== undefined) transport.push(Math.max(0, seen - accepted));
    }
    const sorted = [...freshness].sort((a, b) => a - b);
    console.log(`bench/features: ${RECORDS} records over 500 entities, 4 features (2 windowed aggregates)`);
    console.log(
      `materialized            ${freshness.length} of ${RECORDS} (${(freshness.length / seconds).toFixed(0)} records/s end to end)`,
    );
    // Materialization alone: from the first validated record on the topic to the last vector.
    const firstValidated = Math.min(...validatedSeen.values());
    if (freshness.length > 0 && Number.isFinite(firstValidated)) {
      console.log(
        `materialization         ${(freshness.length / ((lastVectorAt - firstValidated) / 1000)).toFixed(0)} records/s (first validated record -> last vector)`,
      );
    }
    const floor = [...transport].sort((a, b) => a - b);
    if (sorted.length > 0 && floor.length > 0) {
      console.log(
        `freshness send->online vector   p50 ${percentile(sorted, 50).toFixed(0)} ms   p99 ${percentile(sorted, 99).toFixed(0)} ms`,
      );
      console.log(
        `baseline send->validated topic  p50 ${percentile(floor, 50).toFixed(0)} ms   p99 ${percentile(floor, 99).toFixed(0)} ms (raw consumer)`,
      );
      console.log(
        `ratio p50 online/validated        ${(percentile(sorted, 50) / Math.max(1, percentile(floor, 50))).toFixed(2)}`,
      );
    }
    if (freshness.length < RECORDS) process.exitCode = 1;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await baseline.disconnect().catch(() => undefined);
    await ingestion.close();
    await featureStore.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
