// The registry in-process against the real Kafka and Postgres, with a local artifact directory: events go in
// through an EventProducer and come out on their topics through the outbox; HTTP through app.listen(0).
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { createTokenWithRoles } from '@mlops/auth';
import {
  type DeploymentSucceededV1,
  EventTypes,
  type ModelPromotedV1,
  type ModelRegisteredV1,
  type ModelTrainedV1,
} from '@mlops/contracts';
import { EventProducer, deadLetterTopicOf, newEvent, readDeadLetter } from '@mlops/messaging';
import { createRng, exportOnnx, trainPipeline } from '@mlops/ml';
import { POSTGRES } from '@mlops/storage';
import { TEST_ADMIN_TOKEN, authorized, eventually, readTopic, testKafka, uid } from '@mlops/testing';
import { createRegistryApp } from '../src/app';
import type { RegistryConfig } from '../src/config';
import { RegisterTrainedService } from '../src/models/register-trained/register-trained.service';
import { registryTables } from '../src/infrastructure/tables';
import { PG_SCHEMA } from '../src/tokens';
import { degradedEvent, testConfig, trainedEvent } from './support';

const TEST_SOURCE = 'urn:mlops:registry-test';
let app: INestApplication;
let config: RegistryConfig;
let artifactDir: string;
let base: string;
let producer: EventProducer;

before(async () => {
  const setup = await testConfig();
  config = setup.config;
  artifactDir = setup.artifactDir;
  app = await createRegistryApp(config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  producer = app.get(EventProducer);
});

after(async () => {
  await app?.close();
  await rm(artifactDir, { recursive: true, force: true });
});

const modelName = (what: string): string =>
  uid(`m-${what}`)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-');

function publishTrained(data: ModelTrainedV1) {
  return producer.publish(
    newEvent(EventTypes.ModelTrainedV1, data, { source: TEST_SOURCE, subject: data.trainingRunId }),
  );
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  token = TEST_ADMIN_TOKEN,
): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(`${base}${path}`, authorized(init, token));
  const text = await res.text();
  return {
    status: res.status,
    body: (text.length > 0 && text.startsWith('{')) || text.startsWith('[') ? JSON.parse(text) : text,
  };
}

/** Waits until the version exists and its gate has decided (status other than registered). */
async function decidedVersion(model: string, version: number): Promise<any> {
  return eventually(async () => {
    const res = await call('GET', `/models/${model}/versions/${version}`);
    return res.status === 200 && res.body.status !== 'registered' ? res.body : undefined;
  }, `version ${version} of ${model}`);
}

async function aliasVersion(model: string, alias = 'production'): Promise<number | undefined> {
  const res = await call('GET', `/models/${model}`);
  return res.body.aliases?.find((a: { alias: string }) => a.alias === alias)?.version;
}

const valueOf = <T>(message: KafkaMessage): T => JSON.parse(message.value?.toString() ?? '{}') as T;

/** Every promoted event of the model, read up to the one that satisfies `last`. */
function promotedOf(model: string, last: (event: ModelPromotedV1) => boolean): Promise<ModelPromotedV1[]> {
  return readTopic(
    testKafka('registry-test-reader'),
    EventTypes.ModelPromotedV1,
    (message) => valueOf<ModelPromotedV1>(message).model === model,
    (matched) => matched.some((message) => last(valueOf<ModelPromotedV1>(message))),
  ).then((messages) => messages.map((message) => valueOf<ModelPromotedV1>(message)));
}

/** Two trained versions: v1 (auc 0.8) promoted by the gate to production. */
async function modelWithProduction(what: string): Promise<string> {
  const model = modelName(what);
  await publishTrained(trainedEvent(model, { auc: 0.8 }));
  assert.equal((await decidedVersion(model, 1)).status, 'promoted');
  return model;
}

test('the same trained run announced twice registers one version and one model.registered', async () => {
  const model = modelName('dup');
  const trained = trainedEvent(model, { auc: 0.8 });
  await publishTrained(trained);
  await publishTrained(trained); // a second event (new id) for the same run: the trainer re-announcing it
  const marker = trainedEvent(model, { auc: 0.81 });
  await publishTrained(marker);
  const registered = await readTopic(
    testKafka('registry-test-reader'),
    EventTypes.ModelRegisteredV1,
    (message) => valueOf<ModelRegisteredV1>(message).model === model,
    (matched) => matched.some((m) => valueOf<ModelRegisteredV1>(m).trainingRunId === marker.trainingRunId),
  );
  const runs = registered.map((m) => valueOf<ModelRegisteredV1>(m).trainingRunId);
  assert.deepEqual(runs, [trained.trainingRunId, marker.trainingRunId]);
  const versions = await call('GET', `/models/${model}/versions`);
  assert.deepEqual(
    versions.body.map((v: { version: number }) => v.version),
    [2, 1],
  );
});

test('the gate promotes a first version that clears the floor, with the decision in model.promoted', async () => {
  const model = modelName('pass');
  const trained = trainedEvent(model, { auc: 0.8, auc__plan_basic: 0.75 });
  await publishTrained(trained);
  const version = await decidedVersion(model, 1);
  assert.equal(version.status, 'promoted');
  assert.deepEqual(version.sliceMetrics, { plan_basic: { auc: 0.75 } });
  const [promoted] = await promotedOf(model, () => true);
  assert.equal(promoted?.trigger, 'gate');
  assert.equal(promoted?.version, 1);
  assert.equal(promoted?.previousVersion, null);
  assert.equal(promoted?.gate?.decision, 'passed');
  assert.equal(promoted?.artifact.sha256, trained.artifact.sha256);
  assert.deepEqual(promoted?.signature.inputs, trained.signature.inputs);
  assert.equal(promoted?.promotedBy, 'registry-gate');
});

test('a candidate worse than production stays out and the reason is recorded', async () => {
  const model = await modelWithProduction('fail');
  await publishTrained(trainedEvent(model, { auc: 0.7 }));
  const version = await decidedVersion(model, 2);
  assert.equal(version.status, 'rejected');
  assert.match(version.gate.reason, /stayed out: .*auc 0\.7 vs 0\.8 of version 1/);
  assert.equal(await aliasVersion(model), 1);
  const audit = await call('GET', `/models/${model}/audit`);
  assert.ok(audit.body.some((entry: any) => entry.action === 'gate_rejected' && entry.version === 2));
});

test('a policy needing approval leaves the candidate pending until a promoter approves it', async () => {
  const model = await modelWithProduction('approval');
  const policy = await call('PUT', `/models/${model}/policy`, {
    reason: 'production needs a person',
    policy: { metric: 'auc', higherIsBetter: true, floor: 0.6, mode: 'approval' },
  });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  await publishTrained(trainedEvent(model, { auc: 0.9 }));
  assert.equal((await decidedVersion(model, 2)).status, 'pending_approval');
  assert.equal(await aliasVersion(model), 1);
  const promoter = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'promoter');
  const approved = await call(
    'POST',
    `/models/${model}/versions/2/approve`,
    { reason: 'looked at the card' },
    promoter,
  );
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.equal(await aliasVersion(model), 2);
  const events = await promotedOf(model, (event) => event.version === 2);
  assert.deepEqual(
    events.map((event) => [event.version, event.trigger, event.gate?.decision]),
    [
      [1, 'gate', 'passed'],
      [2, 'gate', 'passed'],
    ],
  );
  const again = await call('POST', `/models/${model}/versions/2/approve`, { reason: 'twice' }, promoter);
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'no_pending_promotion');
});

test('alias history after promote, rollback and re-promote; the rollback follows history, not version - 1', async () => {
  const model = await modelWithProduction('history');
  await publishTrained(trainedEvent(model, { auc: 0.85 }));
  assert.equal((await decidedVersion(model, 2)).status, 'promoted');
  await publishTrained(trainedEvent(model, { auc: 0.7 }));
  assert.equal((await decidedVersion(model, 3)).status, 'rejected');
  // A person moves production to 3 (overriding the gate); a rollback must return to 2, the version before.
  const manual = await call('PUT', `/models/${model}/aliases/production`, { version: 3, reason: 'try it live' });
  assert.equal(manual.status, 200, JSON.stringify(manual.body));
  const rollback = await call('POST', `/models/${model}/aliases/production/rollback`, { reason: 'worse live' });
  assert.equal(rollback.status, 200, JSON.stringify(rollback.body));
  assert.equal(rollback.body.version, 2);
  const second = await call('POST', `/models/${model}/aliases/production/rollback`, { reason: 'still worse' });
  assert.equal(second.body.version, 1);
  const again = await call('PUT', `/models/${model}/aliases/production`, { version: 2, reason: 'fixed upstream' });
  assert.equal(again.status, 200);
  const history = await call('GET', `/models/${model}/aliases/production/history`);
  assert.deepEqual(
    history.body.map((h: any) => [h.version, h.previousVersion, h.trigger]),
    [
      [1, null, 'gate'],
      [2, 1, 'gate'],
      [3, 2, 'manual'],
      [2, 3, 'rollback'],
      [1, 2, 'rollback'],
      [2, 1, 'manual'],
    ],
  );
  const events = await promotedOf(model, (event) => event.trigger === 'manual' && event.version === 2);
  const overridden = events.find((event) => event.version === 3);
  assert.equal(overridden?.gate?.decision, 'overridden');
  assert.match(events.find((event) => event.trigger === 'rollback')?.reason ?? '', /from version 3 to 2: worse live/);
});

test('the degraded event rolls the alias back when the policy allows it', async () => {
  const model = await modelWithProduction('degraded');
  await publishTrained(trainedEvent(model, { auc: 0.85 }));
  assert.equal((await decidedVersion(model, 2)).status, 'promoted');
  await producer.publish(newEvent(EventTypes.ModelDegradedV1, degradedEvent(model, 2), { source: TEST_SOURCE }));
  const events = await promotedOf(model, (event) => event.trigger === 'rollback');
  const rollback = events.find((event) => event.trigger === 'rollback');
  assert.equal(rollback?.version, 1);
  assert.equal(rollback?.previousVersion, 2);
  assert.match(rollback?.reason ?? '', /version 2 degraded: live auc 0\.6 below 0\.75/);
  assert.equal(await aliasVersion(model), 1);
});

test('the degraded event changes nothing when the policy does not allow automatic rollback', async () => {
  const model = await modelWithProduction('no-rollback');
  await call('PUT', `/models/${model}/policy`, {
    reason: 'people decide rollbacks',
    policy: { metric: 'auc', higherIsBetter: true, floor: 0.5, autoRollback: false },
  });
  await publishTrained(trainedEvent(model, { auc: 0.85 }));
  assert.equal((await decidedVersion(model, 2)).status, 'promoted');
  await producer.publish(newEvent(EventTypes.ModelDegradedV1, degradedEvent(model, 2), { source: TEST_SOURCE }));
  const audit = await eventually(async () => {
    const res = await call('GET', `/models/${model}/audit`);
    return res.body.find((entry: any) => entry.action === 'rollback_skipped');
  }, 'the skipped rollback in the audit log');
  assert.match(audit.reason, /does not allow automatic rollback/);
  assert.equal(await aliasVersion(model), 2);
});

test('the outbox publishes the events of a registration if and only if its transaction committed', async () => {
  const model = modelName('outbox');
  const dataSource = app.get<DataSource>(POSTGRES);
  const registration = app.get(RegisterTrainedService);
  const rolledBack = trainedEvent(model, { auc: 0.8 });
  await assert.rejects(
    dataSource.transaction(async (manager) => {
      const outcome = await registration.register(
        newEvent(EventTypes.ModelTrainedV1, rolledBack, { source: TEST_SOURCE }),
        manager,
      );
      assert.equal(outcome.registered, true);
      throw new Error('the transaction fails after the registration');
    }),
    /the transaction fails/,
  );
  const committed = trainedEvent(model, { auc: 0.8 });
  await dataSource.transaction((manager) =>
    registration.register(newEvent(EventTypes.ModelTrainedV1, committed, { source: TEST_SOURCE }), manager),
  );
  const registered = await readTopic(
    testKafka('registry-test-reader'),
    EventTypes.ModelRegisteredV1,
    (message) => valueOf<ModelRegisteredV1>(message).model === model,
    (matched) => matched.some((m) => valueOf<ModelRegisteredV1>(m).trainingRunId === committed.trainingRunId),
  );
  assert.deepEqual(
    registered.map((m) => valueOf<ModelRegisteredV1>(m).trainingRunId),
    [committed.trainingRunId],
  );
  const promoted = await promotedOf(model, () => true);
  assert.deepEqual(
    promoted.map((event) => event.version),
    [1],
  );
});

test('promoting without a token is 401 and with a reader token 403, each with a reason', async () => {
  const model = await modelWithProduction('auth');
  const anonymous = await call(
    'PUT',
    `/models/${model}/aliases/staging`,
    { version: 1, reason: 'x' },
    'mlops-not-a-token',
  );
  assert.equal(anonymous.status, 401);
  assert.ok(anonymous.body.message.length > 0);
  const reader = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'reader');
  const refused = await call('PUT', `/models/${model}/aliases/staging`, { version: 1, reason: 'x' }, reader);
  assert.equal(refused.status, 403);
  assert.match(refused.body.message, /needs role promoter/);
  assert.equal(await aliasVersion(model, 'staging'), undefined);
  const read = await call('GET', `/models/${model}`, undefined, reader);
  assert.equal(read.status, 200);
});

test('a version marked bad is not promoted again without an explicit override, nor rolled back to', async () => {
  const model = await modelWithProduction('bad');
  await publishTrained(trainedEvent(model, { auc: 0.85 }));
  assert.equal((await decidedVersion(model, 2)).status, 'promoted');
  const mark = await call('POST', `/models/${model}/versions/1/bad`, { reason: 'leaks the label' });
  assert.equal(mark.status, 200);
  const refused = await call('PUT', `/models/${model}/aliases/production`, { version: 1, reason: 'back' });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error, 'version_marked_bad');
  const rollback = await call('POST', `/models/${model}/aliases/production/rollback`, { reason: 'v2 broke' });
  assert.equal(rollback.status, 409);
  assert.equal(rollback.body.error, 'no_rollback_target');
  const override = await call('PUT', `/models/${model}/aliases/production`, {
    version: 1,
    reason: 'only one that works',
    override: true,
  });
  assert.equal(override.status, 200);
  assert.equal(await aliasVersion(model), 1);
});

test('the lineage of a trained version names the snapshot sha256 and its deployments; the card renders', async () => {
  const model = modelName('lineage');
  const trained = trainedEvent(model, { auc: 0.8, auc__plan_basic: 0.7 });
  await publishTrained(trained);
  await decidedVersion(model, 1);
  const [promoted] = await promotedOf(model, () => true);
  const deployed: DeploymentSucceededV1 = {
    model,
    alias: 'production',
    version: 1,
    strategy: 'hot_swap',
    instanceId: 'deployer-test-1',
    promotionEventId: 'promotion-1',
    previousVersion: null,
    artifactSha256: trained.artifact.sha256,
    warmupMs: 12,
    servingSince: new Date().toISOString(),
  };
  assert.ok(promoted);
  await producer.publish(newEvent(EventTypes.DeploymentSucceededV1, deployed, { source: TEST_SOURCE }));
  const lineage = await eventually(async () => {
    const res = await call('GET', `/models/${model}/versions/1/lineage`);
    return res.body.deployments?.length === 1 ? res.body : undefined;
  }, 'the deployment in the lineage');
  assert.equal(lineage.snapshot.sha256, trained.lineage.snapshotSha256);
  assert.equal(lineage.snapshot.id, trained.lineage.snapshotId);
  assert.deepEqual(lineage.snapshot.rows, trained.lineage.rows);
  assert.equal(lineage.trainingRun.id, trained.trainingRunId);
  assert.equal(lineage.trainingRun.seed, 3);
  assert.equal(lineage.trainingRun.codeVersion, 'git:test');
  assert.deepEqual(lineage.data.featureView, trained.lineage.featureView);
  assert.deepEqual(lineage.data.datasetVersions, trained.lineage.datasetVersions);
  assert.deepEqual(lineage.data.datasets, ['customer_activity', 'churn_labels']);
  assert.equal(lineage.deployments[0].instanceId, 'deployer-test-1');
  assert.deepEqual(
    lineage.aliasHistory.map((h: any) => [h.alias, h.version, h.direction]),
    [['production', 1, 'to']],
  );
  const card = await call('GET', `/models/${model}/versions/1/card`);
  assert.equal(card.body.trainingData.snapshotSha256, trained.lineage.snapshotSha256);
  assert.deepEqual(card.body.trainingData.datasetVersions, trained.lineage.datasetVersions);
  assert.ok(Math.abs(card.body.slices[0].gap - -0.1) < 1e-9);
  const markdown = await call('GET', `/models/${model}/versions/1/card.md`);
  assert.match(markdown.body, /^# Model card: .* version 1/);
  assert.match(markdown.body, new RegExp(trained.lineage.snapshotSha256));
});

// A small binary model exported the way the trainer does: numeric a, b in `features`, a string input `plan`.
function smallOnnx(): Uint8Array {
  const rng = createRng(5);
  const rows = 200;
  const a = new Float64Array(rows);
  const b = new Float64Array(rows);
  const plan: (string | null)[] = [];
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    a[i] = rng.next();
    b[i] = rng.next();
    plan.push(rng.next() < 0.5 ? 'basic' : 'premium');
    labels[i] = (a[i] as number) + (plan[i] === 'basic' ? 0.3 : 0) > 0.6 ? 1 : 0;
  }
  const table = {
    rows,
    columns: [
      { name: 'a', kind: 'numeric' as const, values: a },
      { name: 'b', kind: 'numeric' as const, values: b },
      { name: 'plan', kind: 'categorical' as const, values: plan },
    ],
  };
  const model = trainPipeline(table, labels, 'binary', 'logistic_regression', {}, 1).model;
  return exportOnnx(model, { modelName: 'external', producerVersion: 'test' }).bytes;
}

const SIGNATURE = {
  inputs: [
    { name: 'features', dtype: 'float32', features: ['a', 'b'] },
    { name: 'plan', dtype: 'string', features: ['plan'] },
  ],
  outputName: 'score',
};

async function upload(
  model: string,
  bytes: Uint8Array,
  signature: unknown = SIGNATURE,
): Promise<{ status: number; body: any }> {
  const metadata = {
    task: 'binary_classification',
    featureView: { name: 'customer_features', version: 2 },
    signature,
    metrics: { auc: 0.77 },
    trainingData: { datasets: ['crm_export'], rows: { training: 160, holdout: 40 } },
  };
  const res = await fetch(
    `${base}/models/${model}/versions`,
    authorized({
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream', 'x-model-metadata': JSON.stringify(metadata) },
    }),
  );
  return { status: res.status, body: await res.json() };
}

async function storedFiles(): Promise<number> {
  const walk = async (dir: string): Promise<number> => {
    let count = 0;
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      count += entry.isDirectory() ? await walk(join(dir, entry.name)) : 1;
    }
    return count;
  };
  return walk(artifactDir);
}

test('an external ONNX model is accepted: its inputs read by ONNX Runtime, stored, downloadable with its sha256', async () => {
  const model = modelName('upload');
  const bytes = smallOnnx();
  const res = await upload(model, bytes);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.version, 1);
  assert.equal(res.body.source, 'uploaded');
  assert.equal(res.body.status, 'registered');
  assert.deepEqual(res.body.signature.featureNames, ['a', 'b']);
  const download = await fetch(`${base}/models/${model}/versions/1/artifact`, authorized());
  assert.equal(download.status, 200);
  const downloaded = Buffer.from(await download.arrayBuffer());
  assert.equal(download.headers.get('x-artifact-sha256'), res.body.artifact.sha256);
  assert.ok(downloaded.equals(Buffer.from(bytes)));
});

test('a corrupt file, a file that is not ONNX, mismatched inputs and an oversized upload are refused, nothing stored', async () => {
  const model = modelName('refused');
  const bytes = smallOnnx();
  const before = await storedFiles();
  const corrupt = await upload(model, bytes.subarray(0, Math.floor(bytes.length / 2)));
  assert.equal(corrupt.status, 422);
  assert.equal(corrupt.body.error, 'corrupt_onnx');
  const notOnnx = await upload(model, Buffer.from('{"this": "is json"}'));
  assert.equal(notOnnx.status, 422);
  assert.equal(notOnnx.body.error, 'not_onnx');
  const mismatched = await upload(model, bytes, {
    inputs: [{ name: 'features', dtype: 'float32', features: ['a', 'b', 'c'] }],
    outputName: 'score',
  });
  assert.equal(mismatched.status, 422);
  assert.equal(mismatched.body.error, 'signature_mismatch');
  assert.match(mismatched.body.message, /declared \[batch, 3\]/);
  assert.match(mismatched.body.message, /reads input plan, which is not declared/);
  const oversized = await upload(model, Buffer.alloc(config.REGISTRY_MAX_UPLOAD_BYTES + 1, 8));
  assert.equal(oversized.status, 413);
  assert.equal(oversized.body.error, 'upload_too_large');
  assert.equal(await storedFiles(), before);
  const found = await call('GET', `/models/${model}`);
  assert.equal(found.status, 404);
});

test('an upload without a valid token is refused before its body is read: 401 while the client is still sending', async () => {
  const model = modelName('anonymous-upload');
  for (const authorization of [undefined, 'Bearer mlops_not-a-token']) {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${base}/models/${model}/versions`);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(config.REGISTRY_MAX_UPLOAD_BYTES),
            ...(authorization === undefined ? {} : { authorization }),
          },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            req.destroy(); // the rest of the body is never sent
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('error', reject);
      // One chunk of a body that never ends: a server that waited for the whole body would never answer.
      req.write(Buffer.alloc(1024, 1));
      setTimeout(() => {
        req.destroy();
        reject(new Error('no answer while the body was still being sent'));
      }, 5_000).unref();
    });
    assert.equal(answer.status, 401, answer.body);
    assert.equal((JSON.parse(answer.body) as { error: string }).error, 'unauthenticated');
  }
  assert.equal((await call('GET', `/models/${model}`)).status, 404);
});

test('models and versions are searched by tag, alias, status and metric', async () => {
  const model = await modelWithProduction('search');
  await publishTrained(trainedEvent(model, { auc: 0.7 }));
  await decidedVersion(model, 2);
  const tagged = await call('PATCH', `/models/${model}`, {
    reason: 'owned by growth',
    tags: { team: 'growth' },
    owner: 'growth@example.com',
  });
  assert.equal(tagged.status, 200, JSON.stringify(tagged.body));
  const byTag = await call('GET', `/models?tag=team:growth&name=${model}`);
  assert.deepEqual(
    byTag.body.map((m: any) => m.name),
    [model],
  );
  const byAlias = await call('GET', `/models/${model}/versions?alias=production`);
  assert.deepEqual(
    byAlias.body.map((v: any) => v.version),
    [1],
  );
  const rejected = await call('GET', `/versions?model=${model}&status=rejected`);
  assert.deepEqual(
    rejected.body.map((v: any) => v.version),
    [2],
  );
  const good = await call('GET', `/models/${model}/versions?metric=auc&min=0.75`);
  assert.deepEqual(
    good.body.map((v: any) => v.version),
    [1],
  );
});

test('a trained event whose task contradicts the model is dead-lettered once and registers nothing', async () => {
  const model = await modelWithProduction('poison');
  const poison = trainedEvent(model, { rmse: 3 }, { task: 'regression' });
  const event = newEvent(EventTypes.ModelTrainedV1, poison, { source: TEST_SOURCE });
  await producer.publish(event);
  const marker = trainedEvent(model, { auc: 0.9 });
  await publishTrained(marker);
  assert.equal((await decidedVersion(model, 2)).trainingRunId, marker.trainingRunId);
  const letters = await readTopic(
    testKafka('registry-test-reader'),
    deadLetterTopicOf(EventTypes.ModelTrainedV1),
    (message) => readDeadLetter(0, message).id === event.id,
    (matched) => matched.length >= 1,
  );
  assert.equal(letters.length, 1);
  assert.match(readDeadLetter(0, letters[0] as KafkaMessage).error, /is a binary_classification model/);
  const versions = await call('GET', `/models/${model}/versions`);
  assert.equal(versions.body.length, 2);
});

test('a stored version is immutable: Postgres refuses to change its artifact', async () => {
  const model = await modelWithProduction('immutable');
  const dataSource = app.get<DataSource>(POSTGRES);
  const t = registryTables(PG_SCHEMA);
  await assert.rejects(
    dataSource.query(`UPDATE ${t.model_versions} SET artifact = '{}'::jsonb WHERE model = $1 AND version = 1`, [model]),
    /is immutable/,
  );
});

test('a stored version is immutable: Postgres refuses to change its champion evaluation', async () => {
  const model = await modelWithProduction('immutable-champion');
  const dataSource = app.get<DataSource>(POSTGRES);
  const t = registryTables(PG_SCHEMA);
  await assert.rejects(
    dataSource.query(
      `UPDATE ${t.model_versions} SET champion = '{"version": 99}'::jsonb WHERE model = $1 AND version = 1`,
      [model],
    ),
    /is immutable/,
  );
  // Its status (a lifecycle field) still moves.
  await dataSource.query(`UPDATE ${t.model_versions} SET status = status WHERE model = $1 AND version = 1`, [model]);
});

test('an approval is refused when the alias moved to a better version since the gate ran', async () => {
  const model = await modelWithProduction('stale-approval');
  const approvalFor = (alias: string) =>
    call('PUT', `/models/${model}/policy`, {
      reason: 'a person decides',
      policy: { alias, metric: 'auc', higherIsBetter: true, floor: 0.6, mode: 'approval' },
    });
  await approvalFor('production');
  await publishTrained(trainedEvent(model, { auc: 0.85 }));
  assert.equal((await decidedVersion(model, 2)).status, 'pending_approval');
  await approvalFor('staging');
  await publishTrained(trainedEvent(model, { auc: 0.9 }));
  assert.equal((await decidedVersion(model, 3)).status, 'pending_approval');
  // Meanwhile a person puts version 3 (auc 0.9) in production: version 2 (0.85) no longer beats it.
  assert.equal(
    (await call('PUT', `/models/${model}/aliases/production`, { version: 3, reason: 'urgent' })).status,
    200,
  );
  const stale = await call('POST', `/models/${model}/versions/2/approve`, { reason: 'late' });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.error, 'gate_no_longer_passes');
  assert.match(stale.body.message, /auc 0\.85 vs 0\.9 of version 3/);
  assert.equal(await aliasVersion(model), 3);
});

test("a failed deployment lands in the version's deployment history, once however often it is delivered", async () => {
  const model = await modelWithProduction('deploy-failed');
  const event = newEvent(
    EventTypes.DeploymentFailedV1,
    {
      model,
      alias: 'production',
      version: 1,
      strategy: 'hot_swap',
      instanceId: 'deployer-test-2',
      promotionEventId: 'promotion-2',
      stage: 'verify',
      errorCode: 'sha256_mismatch',
      message: 'artifact hash differs',
      servingVersion: null,
      failedAt: new Date().toISOString(),
    },
    { source: TEST_SOURCE },
  );
  await producer.publish(event);
  await producer.publish(event);
  // A marker after the duplicates, same model key (same partition): once it is in, both copies were handled.
  const marker: DeploymentSucceededV1 = {
    model,
    alias: 'production',
    version: 1,
    strategy: 'hot_swap',
    instanceId: 'deployer-test-3',
    promotionEventId: 'promotion-3',
    previousVersion: null,
    artifactSha256: 'a'.repeat(64),
    warmupMs: 5,
    servingSince: new Date(Date.now() + 1000).toISOString(),
  };
  await producer.publish(newEvent(EventTypes.DeploymentSucceededV1, marker, { source: TEST_SOURCE }));
  const lineage = await eventually(async () => {
    const res = await call('GET', `/models/${model}/versions/1/lineage`);
    return res.body.deployments?.some((d: any) => d.instanceId === 'deployer-test-3') ? res.body : undefined;
  }, 'the marker deployment in the lineage');
  assert.deepEqual(
    lineage.deployments.map((d: any) => [d.outcome, d.instanceId]),
    [
      ['failed', 'deployer-test-2'],
      ['succeeded', 'deployer-test-3'],
    ],
  );
  assert.equal(lineage.deployments[0].details.errorCode, 'sha256_mismatch');
});

test('the OpenAPI document lists the registry routes', async () => {
  const res = await call('GET', '/openapi.json');
  assert.equal(res.status, 200);
  for (const path of [
    '/models/{name}/versions',
    '/models/{name}/aliases/{alias}',
    '/models/{name}/versions/{version}/card.md',
  ]) {
    assert.ok(res.body.paths[path], `${path} in ${Object.keys(res.body.paths).join(', ')}`);
  }
});

test('a version without the policy metric stays out, and a person can still promote it (no gate decision to report)', async () => {
  const model = modelName('no-metric');
  await publishTrained(trainedEvent(model, { logloss: 0.4 }));
  const version = await decidedVersion(model, 1);
  assert.equal(version.status, 'rejected');
  assert.match(version.gate.reason, /has no auc metric/);
  const manual = await call('PUT', `/models/${model}/aliases/staging`, { version: 1, reason: 'shadow it' });
  assert.equal(manual.status, 200, JSON.stringify(manual.body));
  const [promoted] = await promotedOf(model, () => true);
  assert.equal(promoted?.alias, 'staging');
  assert.equal(promoted?.trigger, 'manual');
  assert.equal(promoted?.gate, null);
});

/** The trainer's word on production version 1, scored on the candidate's holdout. */
const championV1 = (auc: number): NonNullable<ModelTrainedV1['champion']> => ({
  alias: 'production',
  version: 1,
  metrics: { auc, accuracy: 0.7 },
  evaluatedOn: 'candidate_holdout',
});

test("a candidate below production's stored metric but better than production on the same holdout is promoted", async () => {
  const model = await modelWithProduction('champion-pass');
  await publishTrained(trainedEvent(model, { auc: 0.75 }, { champion: championV1(0.7) }));
  const version = await decidedVersion(model, 2);
  assert.equal(version.status, 'promoted', version.gate.reason);
  assert.equal(version.gate.baselineSource, 'candidate_holdout');
  assert.equal(version.gate.baselineValue, 0.7);
  assert.match(version.gate.reason, /auc 0\.75 vs 0\.7 of version 1 on the candidate's holdout/);
  assert.deepEqual(version.champion, championV1(0.7));
  const events = await promotedOf(model, (event) => event.version === 2);
  assert.equal(events.at(-1)?.gate?.baselineValue, 0.7);
  const card = await call('GET', `/models/${model}/versions/2/card.md`);
  assert.match(card.body, /production version 1 on this version's holdout: auc 0\.7/);
});

test('a candidate above the stored metric but worse than production on the same holdout stays out', async () => {
  const model = await modelWithProduction('champion-fail');
  await publishTrained(trainedEvent(model, { auc: 0.85 }, { champion: championV1(0.9) }));
  const version = await decidedVersion(model, 2);
  assert.equal(version.status, 'rejected');
  assert.equal(version.gate.baselineSource, 'candidate_holdout');
  assert.match(version.gate.reason, /stayed out: .*auc 0\.85 vs 0\.9 of version 1 on the candidate's holdout/);
  assert.equal(await aliasVersion(model), 1);
});

test('without a champion the gate compares with the stored metrics of production, as before', async () => {
  const model = await modelWithProduction('champion-none');
  await publishTrained(trainedEvent(model, { auc: 0.75 }));
  const version = await decidedVersion(model, 2);
  assert.equal(version.status, 'rejected');
  assert.equal(version.gate.baselineSource, 'stored_metrics');
  assert.equal(version.gate.baselineValue, 0.8);
  assert.equal(version.champion, null);
});

test("the trainer's slices are the version's slices: the gate's slice gap reads them and the card shows them", async () => {
  const model = await modelWithProduction('slices');
  const policy = await call('PUT', `/models/${model}/policy`, {
    reason: 'no group left behind',
    policy: { metric: 'auc', higherIsBetter: true, floor: 0.6, maxSliceGap: 0.05 },
  });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  const slices = {
    plan: {
      values: [
        { value: 'basic', rows: 40, metrics: { roc_auc: 0.7, recall: 0.6 } },
        { value: 'premium', rows: 60, metrics: { roc_auc: 0.85, recall: 0.8 } },
      ],
      gaps: { recall: { gap: 0.2, highest: 'premium', lowest: 'basic' } },
    },
  };
  await publishTrained(trainedEvent(model, { auc: 0.85, max_slice_gap_recall: 0.2 }, { slices }));
  const version = await decidedVersion(model, 2);
  assert.equal(version.status, 'rejected');
  assert.equal(version.gate.worstSlice, 'plan=basic');
  assert.match(version.gate.reason, /slice plan=basic lags the overall auc by 0\.15/);
  const card = await call('GET', `/models/${model}/versions/2/card.md`);
  assert.match(card.body, /\| plan=premium \| roc_auc \| 0\.85 \|/);
});

test('a model registered before its first version has its policy applied to version 1; registering it again is 409', async () => {
  const model = modelName('create');
  const created = await call('PUT', `/models/${model}`, {
    reason: 'the credit team starts a model',
    task: 'binary_classification',
    owner: 'credit-team',
    policy: { metric: 'auc', higherIsBetter: true, floor: 0.9 },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.owner, 'credit-team');
  const again = await call('PUT', `/models/${model}`, { reason: 'again', task: 'regression' });
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'model_exists');
  assert.equal((await call('GET', `/models/${model}`)).body.task, 'binary_classification');
  // The default policy (floor 0.5) would promote auc 0.8; the model's own floor 0.9 keeps it out.
  await publishTrained(trainedEvent(model, { auc: 0.8 }));
  const version = await decidedVersion(model, 1);
  assert.equal(version.status, 'rejected');
  assert.equal(await aliasVersion(model), undefined);
  const audit = await call('GET', `/models/${model}/audit`);
  assert.ok(
    audit.body.some(
      (entry: any) => entry.action === 'model_created' && entry.reason === 'the credit team starts a model',
    ),
  );
});
