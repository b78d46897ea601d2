// Serial: its deployer shares the deployer Postgres schema (and so the inbox) with deployer.it's; running at the same
// time, either could claim the other's prediction.requested events.
// Automatic canary rollback, in-process against the real Kafka and Postgres with ONNX models from libs/ml: a canary
// out of its latency or error bound stops answering production traffic after CANARY_MIN_REQUESTS of its requests
// and the rollback is announced once by mlops.deployment.failed.v1; every other replica follows it (also one
// started later); a healthy canary keeps its share.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Logger, type INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventTypes, type ModelPromotedV1 } from '@mlops/contracts';
import { EventProducer, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { authorized, eventually, readTopic, testKafka, uid } from '@mlops/testing';
import { createDeployerApp } from '../src/app';
import { CanaryGuardService } from '../src/deployments/roll-back-canary/canary-guard.service';
import { announce } from '../src/infrastructure/announce';
import { ServingTable } from '../src/infrastructure/serving-table';
import { type StoredModel, promotion, testConfig, trainAndStore } from './support';

const TEST_SOURCE = 'urn:mlops:deployer-canary-test';
const MIN_REQUESTS = 20;
const kafka = testKafka('deployer-canary');
const features = { tenure_days: 10, monthly_spend: 150, plan: 'basic' };

interface Running {
  readonly app: INestApplication;
  readonly base: string;
}

/** `strict`: any canary latency is too slow (p99 bound 0 ms); `lenient`: no failure allowed, any latency is fine. */
let strict: Running;
let lenient: Running;
let v1: StoredModel;
let v2: StoredModel;
const artifactDirs: string[] = [];

/** Every replica of this file replays the promotions (and rollbacks) from here. */
const REPLAY_SINCE = new Date(Date.now() - 5_000).toISOString();

async function boot(overrides: Record<string, string>, artifactStoreUrl?: string): Promise<Running> {
  const { config, artifactDir, store } = await testConfig({
    REPLAY_SINCE,
    CANARY_PERCENT: '50',
    CANARY_MIN_REQUESTS: String(MIN_REQUESTS),
    ...(artifactStoreUrl ? { ARTIFACT_STORE_URL: artifactStoreUrl } : {}),
    ...overrides,
  });
  artifactDirs.push(artifactDir);
  if (!artifactStoreUrl) {
    v1 = await trainAndStore(store, { seed: 1 });
    v2 = await trainAndStore(store, { seed: 2, algorithm: 'gradient_boosting', params: { iterations: 10 } });
  }
  const app = await createDeployerApp(config);
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

before(async () => {
  strict = await boot({ CANARY_MAX_P99_MS: '0', CANARY_MAX_ERROR_PERCENT: '100' });
  lenient = await boot(
    { CANARY_MAX_P99_MS: '600000', CANARY_MAX_ERROR_PERCENT: '0' },
    pathToFileURL(artifactDirs[0] as string).href,
  );
});

const others: Running[] = [];

after(async () => {
  await strict?.app.close();
  await lenient?.app.close();
  for (const other of others) await other.app.close();
  await Promise.all(artifactDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function promote(at: Running, data: ModelPromotedV1): Promise<string> {
  const event = newEvent(EventTypes.ModelPromotedV1, data, { source: TEST_SOURCE });
  await at.app.get(EventProducer).publish(event);
  return event.id;
}

/** Production v1 and canary v2 of a new model, both serving; returns the model and the canary's promotion id. */
async function withCanary(at: Running): Promise<{ model: string; canaryPromotion: string }> {
  const model = uid('churn');
  await promote(at, promotion(model, 1, v1));
  const canaryPromotion = await promote(at, promotion(model, 2, v2, { alias: 'canary', previousVersion: null }));
  const table = at.app.get(ServingTable);
  await eventually(
    () => table.serving(model, 'production') !== undefined && table.serving(model, 'canary') !== undefined,
    'production and canary to serve',
  );
  return { model, canaryPromotion };
}

async function predict(at: Running, model: string, entityId: string): Promise<{ status: number; body: any }> {
  const res = await fetch(
    `${at.base}/models/${model}/predict`,
    authorized({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entityId, features }),
    }),
  );
  return { status: res.status, body: await res.json() };
}

/**
 * The canary-rollback events of a promotion on the topic: read until a marker the same app wrote to its outbox
 * afterwards (one relay per schema sends the outbox in order, on the model's partition), so none can be missing.
 */
async function rollbacksOf(at: Running, model: string, canaryPromotion: string): Promise<any[]> {
  const marker = uid('marker');
  await announce(
    at.app.get<DataSource>(POSTGRES),
    new Logger('test'),
    newEvent(
      EventTypes.DeploymentFailedV1,
      {
        model,
        alias: 'marker',
        version: 1,
        strategy: 'hot_swap',
        instanceId: 'test',
        promotionEventId: marker,
        stage: 'swap',
        errorCode: 'test_marker',
        message: 'end of the events under test',
        servingVersion: null,
        failedAt: new Date().toISOString(),
      },
      { source: TEST_SOURCE },
    ),
  );
  const seen = await readTopic(
    kafka,
    EventTypes.DeploymentFailedV1,
    (m) => [canaryPromotion, marker].includes(JSON.parse(m.value?.toString() ?? '{}').promotionEventId),
    (matched) => matched.some((m) => JSON.parse(m.value?.toString() ?? '{}').promotionEventId === marker),
  );
  // Other deployers on the stack (other test files) replay these promotions too and may fail to load them (their
  // artifact stores differ): only canary rollbacks count.
  return seen
    .map((m) => JSON.parse(m.value?.toString() ?? '{}'))
    .filter((event) => event.promotionEventId === canaryPromotion && event.stage === 'canary_rollback');
}

/** Sends requests for new entities until `canaryAnswers` of them were answered by the canary (v2) or failed. */
async function driveCanary(at: Running, model: string, canaryAnswers: number): Promise<Map<string, number>> {
  const arms = new Map<string, number>();
  let canary = 0;
  for (let i = 0; canary < canaryAnswers; i++) {
    assert.ok(i < 400, `only ${canary} canary answers in 400 requests`);
    const entityId = `e-${i}`;
    const res = await predict(at, model, entityId);
    const version = res.status === 200 ? (res.body.version as number) : 2;
    arms.set(entityId, version);
    if (version === 2) canary++;
  }
  return arms;
}

test('a canary slower than its p99 bound is rolled back after CANARY_MIN_REQUESTS: its entities get production, one event', async () => {
  const { model, canaryPromotion } = await withCanary(strict);
  const arms = await driveCanary(strict, model, MIN_REQUESTS);
  const canaryEntities = [...arms].filter(([, version]) => version === 2).map(([entityId]) => entityId);
  assert.equal(canaryEntities.length, MIN_REQUESTS);
  for (const entityId of canaryEntities) {
    const again = await predict(strict, model, entityId);
    assert.equal(again.status, 200);
    assert.equal(again.body.version, 1, `${entityId} still on the canary`);
    assert.equal(again.body.alias, 'production');
  }
  const rollbacks = await rollbacksOf(strict, model, canaryPromotion);
  assert.equal(rollbacks.length, 1, `one rollback event: ${JSON.stringify(rollbacks)}`);
  const [event] = rollbacks;
  assert.equal(event.stage, 'canary_rollback');
  assert.equal(event.errorCode, 'p99_latency_exceeded');
  assert.equal(event.strategy, 'canary');
  assert.equal(event.alias, 'canary');
  assert.equal(event.version, 2);
  assert.equal(event.servingVersion, 1);
  assert.equal(event.breach.metric, 'p99_latency');
  assert.equal(event.breach.bound, 0);
  assert.equal(event.breach.requests, MIN_REQUESTS);
  assert.ok(event.breach.measured > 0);
  // The version stays loaded behind its alias: a request that names it still reaches it.
  const explicit = await fetch(
    `${strict.base}/models/${model}/predict`,
    authorized({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features, alias: 'canary' }),
    }),
  );
  assert.equal(((await explicit.json()) as any).version, 2);
});

test('every replica follows a rollback one replica announced, also one started afterwards', async () => {
  const { model } = await withCanary(strict);
  const follower = lenient.app.get(ServingTable);
  await eventually(() => follower.serving(model, 'canary') !== undefined, 'the other replica to serve the canary');
  const followed = follower.serving(model, 'canary')!;
  assert.ok(lenient.app.get(CanaryGuardService).admits(followed), 'the canary takes traffic on the other replica');
  await driveCanary(strict, model, MIN_REQUESTS); // the strict replica rolls it back
  // The lenient replica never saw a slow answer (its bound is 10 minutes): it stops routing because it was told.
  await eventually(
    () => !lenient.app.get(CanaryGuardService).admits(followed),
    'the other replica to follow the rollback',
  );
  for (let i = 0; i < 20; i++) {
    const res = await predict(lenient, model, `follower-${i}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.version, 1, `follower-${i} routed to the rolled-back canary`);
  }
  // A replica started now learns it from the history before it reports ready.
  const late = await boot(
    { CANARY_MAX_P99_MS: '600000', CANARY_MAX_ERROR_PERCENT: '0' },
    pathToFileURL(artifactDirs[0] as string).href,
  );
  others.push(late);
  await eventually(async () => (await fetch(`${late.base}/health/ready`)).status === 200, 'the late replica ready');
  const lateCanary = late.app.get(ServingTable).serving(model, 'canary');
  assert.ok(lateCanary, 'the late replica loaded the canary version');
  assert.equal(late.app.get(CanaryGuardService).admits(lateCanary), false, 'the late replica routes to the canary');
});

test('a canary whose runs fail is rolled back on its error rate; production answers its entities', async () => {
  const { model, canaryPromotion } = await withCanary(lenient);
  const canary = lenient.app.get(ServingTable).serving(model, 'canary');
  assert.ok(canary);
  // An injected inference failure: every run of the canary's session throws.
  canary.predict = () => Promise.reject(new Error('injected inference failure'));
  const arms = await driveCanary(lenient, model, MIN_REQUESTS);
  const canaryEntities = [...arms].filter(([, version]) => version === 2).map(([entityId]) => entityId);
  for (const entityId of canaryEntities) {
    const again = await predict(lenient, model, entityId);
    assert.equal(again.status, 200);
    assert.equal(again.body.version, 1);
  }
  const rollbacks = await rollbacksOf(lenient, model, canaryPromotion);
  assert.equal(rollbacks.length, 1);
  assert.equal(rollbacks[0].errorCode, 'error_rate_exceeded');
  assert.deepEqual(rollbacks[0].breach, { metric: 'error_rate', measured: 100, bound: 0, requests: MIN_REQUESTS });
});

test('a healthy canary within its bounds is not rolled back: it keeps its entities, no event', async () => {
  const { model, canaryPromotion } = await withCanary(lenient);
  const arms = await driveCanary(lenient, model, 3 * MIN_REQUESTS);
  const canaryEntities = [...arms].filter(([, version]) => version === 2).map(([entityId]) => entityId);
  for (const entityId of canaryEntities.slice(0, 10)) {
    const again = await predict(lenient, model, entityId);
    assert.equal(again.body.version, 2, `${entityId} left the canary`);
    assert.equal(again.body.alias, 'canary');
  }
  const canary = lenient.app.get(ServingTable).serving(model, 'canary');
  assert.ok(canary && lenient.app.get(CanaryGuardService).admits(canary));
  assert.deepEqual(await rollbacksOf(lenient, model, canaryPromotion), []);
});
