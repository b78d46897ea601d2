// Batch scoring over a time range, the deployer in-process against the real Kafka and Postgres: the job asks the
// feature store for the view's rows (mlops.features.export.requested.v1); the test answers as the feature store would
// (mlops.features.exported.v1 with an export in the shared artifact store) and follows the job to its end.
// Runs alone (serial): a feature-store test app running meanwhile would answer these requests first (unknown view).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { LocalArtifactStore } from '@mlops/artifacts';
import {
  EventTypes,
  type FeaturesExportRequestedV1,
  type FeaturesExportedV1,
  type FeaturesMaterializedV1,
} from '@mlops/contracts';
import { EventProducer, newEvent } from '@mlops/messaging';
import { authorized, eventually, readTopic, testKafka, uid } from '@mlops/testing';
import { createDeployerApp } from '../src/app';
import {
  FEATURE_VIEW,
  type StoredModel,
  getAt,
  jobEndAt,
  listen,
  postAt,
  promotion,
  testConfig,
  trainAndStore,
} from './support';

const TEST_SOURCE = 'urn:mlops:deployer-batch-range-test';
const FEATURE_STORE_SOURCE = 'urn:mlops:feature-store';
const kafka = testKafka('deployer-batch-range');
const FROM = '2025-03-01T00:00:00.000Z';
const TO = '2025-03-02T00:00:00.000Z';
const COLUMNS: NonNullable<FeaturesExportedV1['export']>['columns'] = [
  { name: 'entity_id', type: 'string', role: 'entity' },
  { name: 'event_time', type: 'string', role: 'event_time' },
  { name: 'tenure_days', type: 'number', role: 'feature' },
  { name: 'monthly_spend', type: 'number', role: 'feature' },
  { name: 'plan', type: 'string', role: 'feature' },
];

let app: INestApplication;
let artifactDir: string;
let artifactStoreUrl: string;
let store: LocalArtifactStore;
let base: string;
let producer: EventProducer;
let v1: StoredModel;

before(async () => {
  const setup = await testConfig();
  artifactDir = setup.artifactDir;
  artifactStoreUrl = setup.config.ARTIFACT_STORE_URL;
  store = setup.store;
  v1 = await trainAndStore(store, { seed: 1 });
  app = await createDeployerApp(setup.config);
  base = await listen(app);
  producer = app.get(EventProducer);
});

after(async () => {
  await app?.close();
  await rm(artifactDir, { recursive: true, force: true });
});

function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  return postAt(base, path, body);
}

function get(path: string): Promise<{ status: number; body: any }> {
  return getAt(base, path);
}

/** A model of its own, version 1 serving (on the deployer at `at`). */
async function servedModel(at = base): Promise<string> {
  const model = uid('churn');
  await producer.publish(newEvent(EventTypes.ModelPromotedV1, promotion(model, 1, v1), { source: TEST_SOURCE }));
  await eventually(async () => {
    const list = (await (await fetch(`${at}/models`, authorized())).json()) as { models: { model: string }[] };
    return list.models.some((m) => m.model === model);
  }, `${model} v1 to serve`);
  return model;
}

/** The export request the job sent (its exportId is the job id). */
async function exportRequestOf(jobId: string): Promise<{ key: string; data: FeaturesExportRequestedV1 }> {
  const [message] = await readTopic(
    kafka,
    EventTypes.FeaturesExportRequestedV1,
    (m) => (JSON.parse(m.value?.toString() ?? '{}') as FeaturesExportRequestedV1).exportId === jobId,
    (matched) => matched.length >= 1,
  );
  return {
    key: message?.key?.toString() ?? '',
    data: JSON.parse(message?.value?.toString() ?? '{}') as FeaturesExportRequestedV1,
  };
}

/** Answers an export request as the feature store does: the rows in the artifact store, or why not. */
async function answer(
  request: FeaturesExportRequestedV1,
  outcome: { rows: Array<Record<string, unknown>> } | { error: NonNullable<FeaturesExportedV1['error']> },
): Promise<void> {
  let data: FeaturesExportedV1;
  const common = {
    exportId: request.exportId,
    featureView: request.featureView,
    timeRange: request.timeRange,
    createdAt: new Date().toISOString(),
  };
  if ('rows' in outcome) {
    const stored = await store.put(Buffer.from(outcome.rows.map((row) => `${JSON.stringify(row)}\n`).join('')), {
      mediaType: 'application/x-ndjson',
    });
    data = {
      ...common,
      status: 'created',
      export: {
        uri: stored.uri,
        sha256: stored.sha256,
        format: 'jsonl',
        rows: outcome.rows.length,
        sizeBytes: stored.sizeBytes,
        columns: COLUMNS,
      },
      error: null,
    };
  } else data = { ...common, status: 'failed', export: null, error: outcome.error };
  await producer.publish(newEvent(EventTypes.FeaturesExportedV1, data, { source: FEATURE_STORE_SOURCE }));
}

/** The batch.scored event announcing the job's end. */
async function scoredEvent(jobId: string): Promise<{ key: string; data: any }> {
  const [message] = await readTopic(
    kafka,
    EventTypes.BatchScoredV1,
    (m) => JSON.parse(m.value?.toString() ?? '{}').jobId === jobId,
    (matched) => matched.length >= 1,
  );
  return { key: message?.key?.toString() ?? '', data: JSON.parse(message?.value?.toString() ?? '{}') };
}

function finished(jobId: string): Promise<any> {
  return jobEndAt(base, jobId, `batch scoring job ${jobId} to end`);
}

test("a time range is asked of the feature store as the model's view; its rows score like online predictions of the same vectors; batch.scored announces the result", async () => {
  const model = await servedModel();
  const plans = ['basic', 'premium', 'enterprise', null];
  const rows = Array.from({ length: 1500 }, (_, i) => ({
    entity_id: uid(`c${i}`),
    event_time: new Date(Date.parse(FROM) + i * 1000).toISOString(),
    tenure_days: (i * 37) % 1000,
    monthly_spend: i % 9 === 0 ? null : (i * 13) % 200,
    plan: plans[i % 4] ?? null,
  }));
  // The same vectors as the online cache holds them, for predictions by entity.
  const sample = rows.filter((_, i) => i % 10 === 0);
  await producer.publishMany(
    sample.map((row) => {
      const features: FeaturesMaterializedV1['features'] = {
        tenure_days: row.tenure_days,
        monthly_spend: row.monthly_spend,
        plan: row.plan,
      };
      return newEvent(
        EventTypes.FeaturesMaterializedV1,
        {
          featureView: { ...FEATURE_VIEW },
          entityId: row.entity_id,
          features,
          eventTime: row.event_time,
          materializedAt: new Date().toISOString(),
        },
        { source: TEST_SOURCE },
      );
    }),
  );

  const started = await post(`/models/${model}/versions/1/batch-scores`, { from: FROM, to: TO });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  assert.equal(started.body.status, 'running');
  assert.equal(started.body.phase, 'exporting');
  const request = await exportRequestOf(started.body.id);
  assert.equal(request.key, started.body.id);
  assert.deepEqual(request.data.featureView, FEATURE_VIEW, "the view the model's version was trained on");
  assert.deepEqual(request.data.timeRange, { start: FROM, end: TO });
  assert.equal((await get(`/batch-scores/${started.body.id}`)).body.phase, 'exporting', 'it waits for the export');

  await answer(request.data, { rows });
  const job = await finished(started.body.id);
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.rowsTotal, 1500);
  assert.equal(job.rowsScored, 1500);
  const scores = (await store.get(job.result.uri))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.equal(scores.length, 1500);
  assert.equal(job.result.rows, 1500);

  const online = await eventually(async () => {
    const res = await post(`/models/${model}/predict`, {
      instances: sample.map((row) => ({ entityId: row.entity_id })),
    });
    return res.status === 200 ? res : undefined;
  }, 'the sampled entities to be cached');
  sample.forEach((row, i) => {
    const scored = scores[rows.indexOf(row)];
    const prediction = online.body.predictions[i];
    assert.equal(scored.entity_id, row.entity_id);
    assert.equal(scored.event_time, row.event_time);
    assert.ok(
      Math.abs(scored.score - prediction.prediction) < 1e-6,
      `${row.entity_id}: ${scored.score} vs online ${prediction.prediction}`,
    );
    assert.equal(scored.label, prediction.label);
    assert.deepEqual(scored.probabilities, prediction.probabilities);
  });
  const announced = await scoredEvent(job.id);
  assert.equal(announced.key, job.id);
  assert.equal(announced.data.status, 'succeeded');
  assert.deepEqual(announced.data.result, job.result);
  assert.deepEqual(announced.data.input, {
    kind: 'range',
    featureView: FEATURE_VIEW,
    timeRange: { start: FROM, end: TO },
    rows: job.rowsFile,
  });
});

test('a range without rows ends as a succeeded job with an empty result', async () => {
  const model = await servedModel();
  const started = await post(`/models/${model}/versions/1/batch-scores`, { from: FROM, to: TO });
  await answer((await exportRequestOf(started.body.id)).data, { rows: [] });
  const job = await finished(started.body.id);
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.rowsTotal, 0);
  assert.equal(job.rowsScored, 0);
  assert.equal(job.result.rows, 0);
  assert.equal(job.result.sizeBytes, 0);
  assert.equal((await store.get(job.result.uri)).length, 0);
});

test("an unknown view fails the job with the feature store's reason, and batch.scored says so", async () => {
  const model = await servedModel();
  const ghost = { name: uid('ghost'), version: 3 };
  const started = await post(`/models/${model}/versions/1/batch-scores`, { featureView: ghost, from: FROM, to: TO });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const request = await exportRequestOf(started.body.id);
  assert.deepEqual(request.data.featureView, ghost);
  await answer(request.data, {
    error: { code: 'unknown_feature_view', message: `feature view ${ghost.name}@3 does not exist` },
  });
  const job = await finished(started.body.id);
  assert.equal(job.status, 'failed');
  assert.equal(job.error.code, 'unknown_feature_view');
  assert.match(job.error.message, new RegExp(`${ghost.name}@3`));
  assert.equal(job.result, null);
  const announced = await scoredEvent(job.id);
  assert.equal(announced.data.status, 'failed');
  assert.deepEqual(announced.data.error, job.error);
  assert.equal(announced.data.result, null);
  assert.equal(announced.data.input.rows, null);
});

test('a requestId names the job: the same request again is that job, another request under it 409', async () => {
  const model = await servedModel();
  const requestId = randomUUID();
  const first = await post(`/models/${model}/versions/1/batch-scores`, { requestId, from: FROM, to: TO });
  const again = await post(`/models/${model}/versions/1/batch-scores`, { requestId, from: FROM, to: TO });
  assert.equal(first.status, 202);
  assert.equal(first.body.id, requestId);
  assert.equal(again.status, 202);
  assert.equal(again.body.id, requestId);
  assert.equal(again.body.startedAt, first.body.startedAt, 'the same job, not a second one');
  const other = await post(`/models/${model}/versions/1/batch-scores`, {
    requestId,
    from: FROM,
    to: '2025-03-03T00:00:00.000Z',
  });
  assert.equal(other.status, 409, JSON.stringify(other.body));
  assert.equal(other.body.error, 'request_id_conflict');
  assert.equal((await exportRequestOf(requestId)).data.exportId, requestId);
});

test('bad batch requests are 4xx: from not before to, a snapshot and a range at once, half a range, neither', async () => {
  const model = await servedModel();
  const path = `/models/${model}/versions/1/batch-scores`;
  const empty = await post(path, { from: TO, to: FROM });
  assert.equal(empty.status, 422, JSON.stringify(empty.body));
  assert.equal(empty.body.error, 'invalid_time_range');
  const snapshot = { snapshotUri: 'file:///nowhere', snapshotSha256: 'a'.repeat(64) };
  assert.equal((await post(path, { ...snapshot, from: FROM, to: TO })).status, 400);
  assert.equal((await post(path, { from: FROM })).status, 400);
  assert.equal((await post(path, { featureView: FEATURE_VIEW })).status, 400);
  assert.equal((await post(path, {})).status, 400);
});

test('a job whose export is never answered fails with export_timeout', async () => {
  const { config: quick, artifactDir: quickDir } = await testConfig({
    ARTIFACT_STORE_URL: artifactStoreUrl,
    BATCH_SCORING_EXPORT_TIMEOUT_MS: '1500',
  });
  const other = await createDeployerApp(quick);
  try {
    const at = await listen(other);
    const model = await servedModel(at);
    const started = (await postAt(at, `/models/${model}/versions/1/batch-scores`, { from: FROM, to: TO })).body;
    const job = await jobEndAt(at, started.id, 'the job to time out');
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'export_timeout');
    assert.equal(job.phase, 'done');
  } finally {
    await other.close();
    await rm(quickDir, { recursive: true, force: true });
  }
});

test('a stopping replica hands over a job still waiting for its export: another replica asks again and scores it', async () => {
  const { config: runnerConfig, artifactDir: runnerDir } = await testConfig({ ARTIFACT_STORE_URL: artifactStoreUrl });
  const runner = await createDeployerApp(runnerConfig);
  let runnerOpen = true;
  try {
    const at = await listen(runner);
    const model = await servedModel(at);
    // The first app, which is to take the job over, serves it too.
    await eventually(async () => {
      const list = (await get('/models')).body as { models: { model: string }[] };
      return list.models.some((m) => m.model === model);
    }, `${model} v1 to serve on the first app`);
    const started = (await postAt(at, `/models/${model}/versions/1/batch-scores`, { from: FROM, to: TO })).body;
    assert.equal(started.phase, 'exporting');
    const first = await exportRequestOf(started.id);
    await runner.close();
    runnerOpen = false;

    // The first app (stale after 30 s; the hand-over makes the job silent at once) takes it at its next heartbeat
    // and asks for the export again, under the same export id.
    const requests = await readTopic(
      kafka,
      EventTypes.FeaturesExportRequestedV1,
      (m) => (JSON.parse(m.value?.toString() ?? '{}') as FeaturesExportRequestedV1).exportId === started.id,
      (matched) => matched.length >= 2,
    );
    assert.equal(requests.length, 2);
    const again = JSON.parse(requests[1]?.value?.toString() ?? '{}') as FeaturesExportRequestedV1;
    assert.deepEqual([again.featureView, again.timeRange], [first.data.featureView, first.data.timeRange]);
    const waiting = (await get(`/batch-scores/${started.id}`)).body;
    assert.deepEqual([waiting.status, waiting.phase, waiting.attempts], ['running', 'exporting', 2]);

    const rows = Array.from({ length: 40 }, (_, i) => ({
      entity_id: `c-${i}`,
      event_time: new Date(Date.parse(FROM) + i * 1000).toISOString(),
      tenure_days: i * 10,
      monthly_spend: i,
      plan: 'basic',
    }));
    await answer(again, { rows });
    const job = await finished(started.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.attempts, 2);
    assert.equal(job.result.rows, 40);
  } finally {
    if (runnerOpen) await runner.close();
    await rm(runnerDir, { recursive: true, force: true });
  }
});
