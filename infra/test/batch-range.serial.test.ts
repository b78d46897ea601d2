// Batch scoring over a time range end to end: the feature store and the deployer, each its own process with the
// service's Kafka user and Postgres role (stack.env), so the ACLs of the export events are the real ones. Records go
// in as validated events; the feature store computes the vectors (online topic and offline store); the deployer asks
// it for the view's rows in [from, to), scores them, and the scores equal its online predictions of the same entities.
// Serial: another feature-store process would answer the export requests from its own offline store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kafka } from 'kafkajs';
import { LocalArtifactStore } from '@mlops/artifacts';
import { EventTypes, type EventData, type EventType } from '@mlops/contracts';
import { encodeEvent, newEvent, startGroupAtEnd } from '@mlops/messaging';
import { type RawTable, exportOnnx, trainPipeline } from '@mlops/ml';
import { authorized, eventually, readTopic, testKafka, uid } from '@mlops/testing';
import { type ServiceProcess, startService, waitReady } from './stack-env';

const SOURCE = 'urn:mlops:batch-range-test';
const MINUTE = 60_000;
const ENTITIES = 60;

const running: ServiceProcess[] = [];

function start(service: string, port: number, env: Record<string, string>): ServiceProcess {
  const started = startService(service, port, env);
  running.push(started);
  return started;
}

async function call(
  base: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(
    `${base}${route}`,
    authorized({
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    }),
  );
  return { status: res.status, body: await res.json() };
}

async function publish<T extends EventType>(kafka: Kafka, type: T, items: readonly EventData<T>[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: type,
      acks: -1,
      messages: items.map((data) => encodeEvent(newEvent(type, data, { source: SOURCE }))),
    });
  } finally {
    await producer.disconnect();
  }
}

describe('batch scoring of a time range: feature store and deployer as their own processes', { concurrency: 1 }, () => {
  const kafka = testKafka('batch-range-test');
  const run = uid('br').replace(/-/g, '');
  const dataset = `${run}_activity`;
  const view = `${run}_scoring`;
  const model = `${run}-churn`;
  /** Entity i's one record happens at BASE + i minutes; the range is [BASE + 10 min, BASE + 50 min). */
  const BASE = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * 60 * MINUTE;
  const eventTime = (i: number): string => new Date(BASE + i * MINUTE - (i === 49 ? 1 : 0)).toISOString(); // entity 49: a millisecond before the end
  const from = new Date(BASE + 10 * MINUTE).toISOString();
  const to = new Date(BASE + 50 * MINUTE).toISOString();
  const entity = (i: number): string => `${run}-c${String(i).padStart(2, '0')}`;
  const plans = ['basic', 'premium', 'enterprise'];
  let featureStore: ServiceProcess;
  let deployer: ServiceProcess;
  let store: LocalArtifactStore;

  after(async () => {
    for (const service of running) service.child.kill('SIGTERM');
    await Promise.all(running.map((service) => service.exited));
  });

  async function finished(jobId: string): Promise<any> {
    return eventually(
      async () => {
        const res = await call(deployer.base, 'GET', `/batch-scores/${jobId}`);
        return res.body.status !== 'running' ? res.body : undefined;
      },
      `job ${jobId} to end`,
      120_000,
    );
  }

  before(async () => {
    const artifactDir = mkdtempSync(path.join(tmpdir(), 'batch-range-artifacts-'));
    const artifacts = { ARTIFACT_STORE_URL: pathToFileURL(artifactDir).href };
    store = new LocalArtifactStore(artifactDir);
    // Groups of their own, at the end of what they consume: the history of other runs is not replayed.
    const featureStoreGroup = uid('feature-store-batch-range');
    const deployerGroup = uid('deployer-batch-range');
    await startGroupAtEnd(kafka, featureStoreGroup, [
      EventTypes.DatasetRegisteredV1,
      EventTypes.DataValidatedV1,
      EventTypes.DatasetSnapshotRequestedV1,
      EventTypes.FeaturesExportRequestedV1,
      EventTypes.AuthTokenChangedV1,
    ]);
    await startGroupAtEnd(kafka, deployerGroup, [EventTypes.PredictionRequestedV1, EventTypes.AuthTokenChangedV1]);
    featureStore = start('feature-store', 14_160, {
      ...artifacts,
      CONSUMER_GROUP: featureStoreGroup,
      CLICKHOUSE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'batch-range-chdb-')),
    });
    deployer = start('deployer', 14_161, {
      ...artifacts,
      CONSUMER_GROUP: deployerGroup,
      REPLAY_SINCE: new Date(Date.now() - MINUTE).toISOString(),
    });
    await Promise.all([waitReady(featureStore, 120_000), waitReady(deployer, 120_000)]);

    await publish(kafka, EventTypes.DatasetRegisteredV1, [
      {
        dataset,
        version: 1,
        role: 'features',
        recordSchema: {
          type: 'object',
          required: ['customer_id', 'event_time', 'tenure_days', 'plan'],
          properties: {
            customer_id: { type: 'string' },
            event_time: { type: 'string', format: 'date-time' },
            tenure_days: { type: 'integer', minimum: 0 },
            monthly_spend: { type: ['number', 'null'] },
            plan: { enum: plans },
          },
        },
        entityKeyField: 'customer_id',
        eventTimeField: 'event_time',
        sensitiveFields: [],
        registeredAt: new Date().toISOString(),
      },
    ]);
    const definition = {
      name: view,
      source: { dataset },
      ttl: '30d',
      features: [
        { kind: 'field', name: 'tenure_days', field: 'tenure_days' },
        { kind: 'field', name: 'monthly_spend', field: 'monthly_spend' },
        { kind: 'field', name: 'plan', field: 'plan' },
      ],
    };
    await eventually(
      async () => (await call(featureStore.base, 'POST', '/feature-views', definition)).status === 201,
      'the view to be created (once the dataset is known)',
      60_000,
    );
    await eventually(
      async () => (await call(featureStore.base, 'GET', `/feature-views/${view}`)).body.servingVersion === 1,
      `${view}@1 to serve`,
      60_000,
    );

    // A model over the view's features, promoted as the registry would.
    const rows = 300;
    const tenure = Float64Array.from({ length: rows }, (_, i) => (i * 37) % 1000);
    const spend = Float64Array.from({ length: rows }, (_, i) => ((i * 53) % 2000) / 10);
    const table: RawTable = {
      rows,
      columns: [
        { name: 'tenure_days', kind: 'numeric', values: tenure },
        { name: 'monthly_spend', kind: 'numeric', values: spend },
        { name: 'plan', kind: 'categorical', values: Array.from({ length: rows }, (_, i) => plans[i % 3] ?? null) },
      ],
    };
    const labels = Float64Array.from(tenure, (t, i) => (t < 300 || plans[i % 3] === 'basic' ? 1 : 0));
    const { model: trained } = trainPipeline(table, labels, 'binary', 'logistic_regression', {}, 1);
    const exported = exportOnnx(trained, { modelName: model, producerVersion: 'test' });
    const stored = await store.put(exported.bytes, {
      mediaType: 'application/onnx',
      name: 'model.onnx',
    });
    await publish(kafka, EventTypes.ModelPromotedV1, [
      {
        model,
        alias: 'production',
        version: 1,
        previousVersion: null,
        trigger: 'manual',
        reason: 'batch range test',
        gate: null,
        artifact: { uri: stored.uri, sha256: stored.sha256, format: 'onnx', sizeBytes: stored.sizeBytes },
        signature: {
          inputName: exported.signature.inputName,
          inputDtype: exported.signature.inputDtype,
          featureNames: [...exported.signature.featureNames],
          outputName: exported.signature.outputName,
        },
        featureView: { name: view, version: 1 },
        promotedBy: 'batch-range-test',
        promotedAt: new Date().toISOString(),
      },
    ]);

    // One record per entity, minutes apart; every 7th without a spend.
    await publish(
      kafka,
      EventTypes.DataValidatedV1,
      Array.from({ length: ENTITIES }, (_, i) => ({
        dataset,
        datasetVersion: 1,
        role: 'features' as const,
        entityId: entity(i),
        eventTime: eventTime(i),
        record: {
          customer_id: entity(i),
          event_time: eventTime(i),
          tenure_days: (i * 97) % 900,
          monthly_spend: i % 7 === 0 ? null : (i * 31) % 250,
          plan: plans[i % 3] ?? 'basic',
        },
        recordId: `${run}-r${i}`,
        sourceEventId: `${run}-s${i}`,
        validatedAt: new Date().toISOString(),
      })),
    );
    // Every entity served online by the deployer (the feature store materialized it; the deployer cached it).
    await eventually(
      async () => {
        const res = await call(deployer.base, 'POST', `/models/${model}/predict`, {
          instances: Array.from({ length: ENTITIES }, (_, i) => ({ entityId: entity(i) })),
        });
        return res.status === 200;
      },
      'every entity to be served online',
      120_000,
    );
  });

  test('the rows of [from, to) are scored, each as the deployer scores that entity online; batch.scored announces it', async () => {
    const started = await call(deployer.base, 'POST', `/models/${model}/versions/1/batch-scores`, { from, to });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const job = await finished(started.body.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const inRange = Array.from({ length: 40 }, (_, k) => k + 10); // 10 (at from) .. 49 (1 ms before to); 50 is at to
    assert.equal(job.rowsTotal, inRange.length);
    const file = (await store.get(job.result.uri))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { entity_id: string; event_time: string; score: number; label: number });
    assert.deepEqual(
      file.map((row) => [row.entity_id, row.event_time]),
      inRange.map((i) => [entity(i), eventTime(i)]),
    );
    const online = await call(deployer.base, 'POST', `/models/${model}/predict`, {
      instances: inRange.map((i) => ({ entityId: entity(i) })),
    });
    assert.equal(online.status, 200, JSON.stringify(online.body));
    file.forEach((row, k) => {
      const prediction = online.body.predictions[k];
      assert.ok(
        Math.abs(row.score - prediction.prediction) < 1e-6,
        `${row.entity_id}: batch ${row.score} vs online ${prediction.prediction}`,
      );
      assert.equal(row.label, prediction.label);
    });
    // The end is announced by the deployer's own Kafka user (its ACL grants the topic).
    const [announced] = await readTopic(
      kafka,
      EventTypes.BatchScoredV1,
      (m) => JSON.parse(m.value?.toString() ?? '{}').jobId === job.id,
      (matched) => matched.length >= 1,
    );
    assert.equal(JSON.parse(announced?.value?.toString() ?? '{}').result.sha256, job.result.sha256);
  });

  test('a range without records ends as an empty result', async () => {
    const started = await call(deployer.base, 'POST', `/models/${model}/versions/1/batch-scores`, {
      from: new Date(BASE + 120 * MINUTE).toISOString(),
      to: new Date(BASE + 150 * MINUTE).toISOString(),
    });
    const job = await finished(started.body.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.result.rows, 0);
    assert.equal(job.rowsTotal, 0);
  });

  test('an unknown view version fails the job with unknown_feature_view', async () => {
    const started = await call(deployer.base, 'POST', `/models/${model}/versions/1/batch-scores`, {
      featureView: { name: view, version: 9 },
      from,
      to,
    });
    const job = await finished(started.body.id);
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'unknown_feature_view');
  });
});
