// Deployer replicas with settings of their own, beside a first deployer, against the real Kafka, Postgres and a
// shared artifact store: batch scoring jobs across replicas (shared, taken over, handed over, kept for their
// retention) and the prediction log's content mode. Its own file, so that it runs beside deployer.it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { KafkaMessage } from 'kafkajs';
import type { LocalArtifactStore } from '@mlops/artifacts';
import { EventTypes, type ModelPromotedV1 } from '@mlops/contracts';
import { EventProducer, decodeMessage, newEvent } from '@mlops/messaging';
import { authorized, eventually, readTopic, testKafka, uid } from '@mlops/testing';
import { createDeployerApp } from '../src/app';
import { BatchScoreService } from '../src/predictions/batch-score/batch-score.service';
import type { DeployerConfig } from '../src/config';
import {
  type StoredModel,
  getAt,
  jobEndAt,
  listen,
  postAt,
  type TestDeployer,
  promotion,
  servingVersionAt,
  startTestDeployer,
  testConfig,
  trainAndStore,
} from './support';

let deployer: TestDeployer;
let config: DeployerConfig;
let store: LocalArtifactStore;
let base: string;
let producer: EventProducer;
let v1: StoredModel;
const kafka = testKafka('deployer-replicas-it');

before(async () => {
  deployer = await startTestDeployer();
  ({ config, store, base, producer } = deployer);
  v1 = await trainAndStore(store, { seed: 1 });
});

after(() => deployer?.close());

async function promote(data: ModelPromotedV1): Promise<void> {
  await producer.publish(newEvent(EventTypes.ModelPromotedV1, data, { source: 'urn:mlops:deployer-replicas-test' }));
}

const post = (path: string, body: unknown, at = base) => postAt(at, path, body);
const get = (path: string, at = base) => getAt(at, path);
const servingVersion = (model: string, version: number, at = base) => servingVersionAt(at, model, version);

/** A prediction log message's data, decoded as the monitor decodes it (either CloudEvents content mode). */
function loggedData(message: KafkaMessage): any {
  return decodeMessage(EventTypes.PredictionLoggedV1, message, { maxEventBytes: 1_000_000 }).data;
}

/** A snapshot of `rows` lines for the churn models, stored; scoring it takes a while when `rows` is large. */
async function storedSnapshot(rows: number): Promise<{ snapshotUri: string; snapshotSha256: string }> {
  const plans = ['basic', 'premium', 'enterprise'];
  const lines: string[] = [];
  for (let i = 0; i < rows; i++)
    lines.push(
      JSON.stringify({ entity_id: `c-${i}`, tenure_days: i % 1000, monthly_spend: (i * 7) % 300, plan: plans[i % 3] }),
    );
  const stored = await store.put(Buffer.from(`${lines.join('\n')}\n`), { mediaType: 'application/x-ndjson' });
  return { snapshotUri: stored.uri, snapshotSha256: stored.sha256 };
}

/** Another replica of the deployer on the same Kafka, Postgres and artifacts, with these settings. */
async function replica(overrides: Record<string, string> = {}): Promise<{ app: INestApplication; at: string }> {
  const { config: replicaConfig } = await testConfig({ ARTIFACT_STORE_URL: config.ARTIFACT_STORE_URL, ...overrides });
  const other = await createDeployerApp(replicaConfig);
  const at = await listen(other);
  await eventually(async () => (await fetch(`${at}/health/ready`)).status === 200, 'the replica to be ready');
  return { app: other, at };
}

test('batch scoring jobs are shared by the replicas: any answers a job, and a request id is one job across them', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const other = await replica();
  try {
    await servingVersion(model, 1, other.at);
    const snapshot = await storedSnapshot(300);
    const requestId = crypto.randomUUID();
    const started = await post(`/models/${model}/versions/1/batch-scores`, { requestId, ...snapshot });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.id, requestId);
    // The other replica follows the job to its end and answers what the one running it answers.
    const seen = await eventually(async () => {
      const res = await get(`/batch-scores/${requestId}`, other.at);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.status !== 'running' ? res.body : undefined;
    }, 'the job to end, seen from the other replica');
    assert.equal(seen.status, 'succeeded', JSON.stringify(seen.error));
    assert.equal(seen.rowsScored, 300);
    assert.equal(seen.rowsTotal, 300);
    const running = await get(`/batch-scores/${requestId}`);
    assert.deepEqual(seen, running.body);
    assert.equal(seen.result.rows, 300);
    // The same request on the other replica is the same job, not a second one; another request under its id is a 409.
    const again = await post(`/models/${model}/versions/1/batch-scores`, { requestId, ...snapshot }, other.at);
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, running.body);
    const other300 = await storedSnapshot(301);
    const conflict = await post(`/models/${model}/versions/1/batch-scores`, { requestId, ...other300 }, other.at);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error, 'request_id_conflict');
    assert.equal((await get(`/batch-scores/${crypto.randomUUID()}`, other.at)).status, 404);
  } finally {
    await other.app.close();
  }
});

test('a job with no run left whose replica goes silent is failed as replica_lost, on every replica; so is one its stopping replica hands over', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  // The runner writes its heartbeat once a minute and gives its jobs one run; the reader calls a job lost after
  // 100 ms of silence.
  const runner = await replica({ BATCH_SCORING_HEARTBEAT_MS: '60000', BATCH_SCORING_MAX_ATTEMPTS: '1' });
  const reader = await replica({ BATCH_SCORING_STALE_MS: '100' });
  let runnerOpen = true;
  try {
    await servingVersion(model, 1, runner.at);
    const snapshot = await storedSnapshot(300_000);
    const lost = await post(`/models/${model}/versions/1/batch-scores`, snapshot, runner.at);
    assert.equal(lost.status, 202, JSON.stringify(lost.body));
    // Asked often, so that the reader asks while the job runs (scoring the rows takes a second or more).
    let verdict: any;
    for (const deadline = Date.now() + 60_000; verdict === undefined && Date.now() < deadline;) {
      const res = await get(`/batch-scores/${lost.body.id}`, reader.at);
      if (res.body.status !== 'running') verdict = res.body;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(verdict.status, 'failed');
    assert.equal(verdict.error.code, 'replica_lost');
    assert.equal(verdict.attempts, 1);
    assert.equal(verdict.maxAttempts, 1);
    // The runner, once it has scored the rows, takes that verdict rather than its own result.
    const onRunner = await jobEndAt(runner.at, lost.body.id, 'the runner to end the job');
    assert.equal(onRunner.status, 'failed');
    assert.equal(onRunner.error.code, 'replica_lost');
    assert.equal(onRunner.result, null);
    // A replica that stops hands the jobs it runs over; with no run left, the others fail them at once (no wait for
    // the stale time).
    const stopped = await post(`/models/${model}/versions/1/batch-scores`, snapshot, runner.at);
    assert.equal(stopped.status, 202);
    await runner.app.close();
    runnerOpen = false;
    const after = await get(`/batch-scores/${stopped.body.id}`);
    assert.equal(after.body.status, 'failed', JSON.stringify(after.body));
    assert.equal(after.body.error.code, 'replica_stopped');
  } finally {
    if (runnerOpen) await runner.app.close();
    await reader.app.close();
  }
});

test('a job whose replica goes silent is taken over by another replica and scored again: the same scores', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  // The runner writes its heartbeat once a minute; the taker looks for silent jobs every 100 ms and calls a job
  // silent after 100 ms. The first replica (30 s) only follows.
  const runner = await replica({ BATCH_SCORING_HEARTBEAT_MS: '60000' });
  const taker = await replica({ BATCH_SCORING_STALE_MS: '100', BATCH_SCORING_HEARTBEAT_MS: '100' });
  try {
    await servingVersion(model, 1, runner.at);
    await servingVersion(model, 1, taker.at);
    const snapshot = await storedSnapshot(300_000);
    const started = await post(`/models/${model}/versions/1/batch-scores`, snapshot, runner.at);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.deepEqual([started.body.attempts, started.body.maxAttempts], [1, 3]);
    const done = await jobEndAt(base, started.body.id, 'the job to end, followed from the first replica');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempts, 2, 'run again by the taker');
    assert.equal(done.rowsScored, 300_000);
    assert.equal(done.result.rows, 300_000);
    // The runner, once it has scored the rows, answers the taker's run rather than its own.
    const onRunner = await jobEndAt(runner.at, started.body.id, 'the runner to give the job up');
    assert.deepEqual(onRunner, done);
    // The scores equal those of a job that ran once, start to end, on one replica.
    const once = await post(`/models/${model}/versions/1/batch-scores`, snapshot, taker.at);
    const fresh = await jobEndAt(taker.at, once.body.id, 'the fresh job to end');
    assert.equal(fresh.attempts, 1);
    assert.equal(done.result.sha256, fresh.result.sha256);
  } finally {
    await runner.app.close();
    await taker.app.close();
  }
});

test('a silent run is taken over once: a replica that read it silent twice claims it once', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  // Both write their heartbeat once a minute, so the taker's own run is silent (past 100 ms) right after its claim.
  const runner = await replica({ BATCH_SCORING_HEARTBEAT_MS: '60000' });
  const taker = await replica({ BATCH_SCORING_STALE_MS: '100', BATCH_SCORING_HEARTBEAT_MS: '60000' });
  try {
    await servingVersion(model, 1, runner.at);
    await servingVersion(model, 1, taker.at);
    const started = await post(`/models/${model}/versions/1/batch-scores`, await storedSnapshot(300_000), runner.at);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    // Two paths of the taker (its heartbeat's look for silent jobs, a GET) read the row while the runner is silent...
    const service = taker.app.get(BatchScoreService) as unknown as {
      row(id: string): Promise<{ silent_ms: number }>;
      settleStale(row: unknown): Promise<{ attempts: number; status: string }>;
    };
    const seen = await eventually(async () => {
      const row = await service.row(started.body.id);
      return row.silent_ms > 100 ? row : undefined;
    }, 'the runner to be silent');
    // ...one claims it; the other acts on its older reading once the claim is silent too.
    assert.equal((await service.settleStale(seen)).attempts, 2, 'the first claim');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await service.settleStale(seen);
    assert.equal(again.attempts, 2, 'not claimed a second time');
    assert.notEqual(again.status, 'failed', 'nor failed for the silence it read');
    const done = await jobEndAt(taker.at, started.body.id, 'the job to end');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempts, 2);
    assert.equal(done.result.rows, 300_000);
  } finally {
    await runner.app.close();
    await taker.app.close();
  }
});

test('a stopping replica hands its batch scoring jobs over: another replica runs them to their end', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  const runner = await replica();
  const taker = await replica({ BATCH_SCORING_STALE_MS: '100', BATCH_SCORING_HEARTBEAT_MS: '100' });
  let runnerOpen = true;
  try {
    await servingVersion(model, 1, runner.at);
    await servingVersion(model, 1, taker.at);
    const started = await post(`/models/${model}/versions/1/batch-scores`, await storedSnapshot(300_000), runner.at);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await runner.app.close();
    runnerOpen = false;
    const done = await jobEndAt(taker.at, started.body.id, 'the job to end on another replica');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempts, 2);
    assert.equal(done.result.rows, 300_000);
    assert.equal((await store.get(done.result.uri)).toString('utf8').trim().split('\n').length, 300_000);
  } finally {
    if (runnerOpen) await runner.app.close();
    await taker.app.close();
  }
});

test('a finished batch scoring job is kept BATCH_SCORING_RETENTION_MS, then gone from every replica', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  const keeper = await replica({ BATCH_SCORING_RETENTION_MS: '1500', BATCH_SCORING_HEARTBEAT_MS: '100' });
  try {
    await servingVersion(model, 1, keeper.at);
    const started = await post(`/models/${model}/versions/1/batch-scores`, await storedSnapshot(50), keeper.at);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const done = await jobEndAt(keeper.at, started.body.id, 'the job to end');
    assert.equal(done.status, 'succeeded');
    // Right after its end it is there, from the other replica too.
    assert.equal((await get(`/batch-scores/${started.body.id}`)).status, 200);
    await eventually(
      async () => (await get(`/batch-scores/${started.body.id}`, keeper.at)).status === 404,
      'the job to be deleted after its retention',
    );
    assert.equal((await get(`/batch-scores/${started.body.id}`)).status, 404);
    // Its scores file stays in the artifact store.
    assert.ok(await store.exists(done.result.uri));
  } finally {
    await keeper.app.close();
  }
});

test('PREDICTION_LOG_CONTENT_MODE=structured logs each prediction as one CloudEvents JSON envelope', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  const structured = await replica({ PREDICTION_LOG_CONTENT_MODE: 'structured' });
  try {
    await servingVersion(model, 1, structured.at);
    const requestId = uid('req');
    const res = await fetch(
      `${structured.at}/models/${model}/predict`,
      authorized({
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify({ features: { tenure_days: 9, monthly_spend: 20, plan: 'premium' } }),
      }),
    );
    assert.equal(res.status, 200);
    const answer = (await res.json()) as any;
    const [logged] = await readTopic(
      kafka,
      EventTypes.PredictionLoggedV1,
      (m) => loggedData(m).requestId === requestId,
      (matched) => matched.length >= 1,
    );
    assert.deepEqual(Object.keys(logged?.headers ?? {}), ['content-type']);
    assert.match(String(logged?.headers?.['content-type']), /^application\/cloudevents\+json/);
    const envelope = JSON.parse(logged?.value?.toString() ?? '{}');
    assert.equal(envelope.type, EventTypes.PredictionLoggedV1);
    assert.equal(envelope.specversion, '1.0');
    assert.equal(envelope.data.requestId, requestId);
    assert.equal(envelope.data.output.value, answer.prediction);
  } finally {
    await structured.app.close();
  }
});
