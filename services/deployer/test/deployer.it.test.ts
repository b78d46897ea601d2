// The deployer in-process against the real Kafka and Postgres, with ONNX models trained and exported by libs/ml into
// a local artifact store: promotions go in as a registry would publish them, predictions come out over HTTP.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { KafkaMessage } from 'kafkajs';
import type { LocalArtifactStore } from '@mlops/artifacts';
import { digestKey, sha256Hex } from '@mlops/artifacts';
import { EventTypes, type FeaturesMaterializedV1, type ModelPromotedV1 } from '@mlops/contracts';
import { type CloudEvent, EventProducer, decodeMessage, newEvent } from '@mlops/messaging';
import { onnxFeeds, predictModel, type RawTable } from '@mlops/ml';
import { authorized, eventually, readTopic, testKafka, uid } from '@mlops/testing';
import { createDeployerApp } from '../src/app';
import type { DeployerConfig } from '../src/config';
import { ServingTable } from '../src/infrastructure/serving-table';
import { INSTANCE_ID } from '../src/tokens';
import {
  FEATURE_VIEW,
  type StoredModel,
  getAt,
  jobEndAt,
  listen,
  postAt,
  type TestDeployer,
  promotion,
  servedAt,
  servingVersionAt,
  startTestDeployer,
  testConfig,
  trainAndStore,
} from './support';

const TEST_SOURCE = 'urn:mlops:deployer-test';
let deployer: TestDeployer;
let app: INestApplication;
let config: DeployerConfig;
let artifactDir: string;
let store: LocalArtifactStore;
let base: string;
let producer: EventProducer;
let v1: StoredModel;
let v2: StoredModel;
const kafka = testKafka('deployer-it');

before(async () => {
  deployer = await startTestDeployer();
  ({ app, config, artifactDir, store, base, producer } = deployer);
  v1 = await trainAndStore(store, { seed: 1 });
  v2 = await trainAndStore(store, { seed: 2, algorithm: 'gradient_boosting', params: { iterations: 10 } });
});

after(() => deployer?.close());

async function start(appConfig: DeployerConfig): Promise<INestApplication> {
  const created = await createDeployerApp(appConfig);
  return created;
}

async function promote(data: ModelPromotedV1): Promise<CloudEvent<typeof EventTypes.ModelPromotedV1>> {
  const event = newEvent(EventTypes.ModelPromotedV1, data, { source: TEST_SOURCE });
  await producer.publish(event);
  return event;
}

async function materialize(entityId: string, features: FeaturesMaterializedV1['features']): Promise<void> {
  const now = new Date().toISOString();
  await producer.publish(
    newEvent(
      EventTypes.FeaturesMaterializedV1,
      { featureView: { ...FEATURE_VIEW }, entityId, features, eventTime: now, materializedAt: now },
      { source: TEST_SOURCE },
    ),
  );
}

const post = (path: string, body: unknown, at = base) => postAt(at, path, body);
const get = (path: string, at = base) => getAt(at, path);
const served = (model: string, at = base) => servedAt(at, model);
const servingVersion = (model: string, version: number, at = base) => servingVersionAt(at, model, version);

/** The deployment event answering a promotion (its promotionEventId). */
async function deploymentEvent(
  type: typeof EventTypes.DeploymentSucceededV1 | typeof EventTypes.DeploymentFailedV1,
  promotionEventId: string,
): Promise<any> {
  const [message] = await readTopic(
    kafka,
    type,
    (m) => JSON.parse(m.value?.toString() ?? '{}').promotionEventId === promotionEventId,
    (matched) => matched.length >= 1,
  );
  return JSON.parse(message?.value?.toString() ?? '{}');
}

function oneRow(tenure: number, spend: number | null, plan: string | null): RawTable {
  return {
    rows: 1,
    columns: [
      { name: 'tenure_days', kind: 'numeric', values: Float64Array.of(tenure) },
      { name: 'monthly_spend', kind: 'numeric', values: Float64Array.of(spend ?? Number.NaN) },
      { name: 'plan', kind: 'categorical', values: [plan] },
    ],
  };
}

/** A prediction log message's data, decoded as the monitor decodes it (either CloudEvents content mode). */
function loggedData(message: KafkaMessage): any {
  return decodeMessage(EventTypes.PredictionLoggedV1, message, { maxEventBytes: 1_000_000 }).data;
}
test('a promoted version serves: answers equal the trained model, deployment.succeeded names it', async () => {
  const model = uid('churn');
  const promoted = await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const answer = await post(`/models/${model}/predict`, {
    features: { tenure_days: 120, monthly_spend: 95.5, plan: 'basic' },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.model, model);
  assert.equal(answer.body.alias, 'production');
  assert.equal(answer.body.version, 1);
  assert.equal(typeof answer.body.requestId, 'string');
  const expected = predictModel(v1.model, oneRow(120, 95.5, 'basic'))[0] as number;
  assert.ok(Math.abs(answer.body.prediction - expected) < 1e-5, `${answer.body.prediction} vs ${expected}`);
  assert.deepEqual(
    answer.body.probabilities.map((p: number) => Math.round(p * 1e5)),
    [Math.round((1 - expected) * 1e5), Math.round(expected * 1e5)],
  );
  assert.equal(answer.body.label, expected >= 0.5 ? 1 : 0);
  const succeeded = await deploymentEvent(EventTypes.DeploymentSucceededV1, promoted.id);
  assert.equal(succeeded.version, 1);
  assert.equal(succeeded.artifactSha256, v1.artifact.sha256);
  assert.equal(succeeded.strategy, 'hot_swap');
});

test('predict by entity joins the online features; request features override them; null is imputed', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  const entity = uid('customer');
  await materialize(entity, { tenure_days: 40, monthly_spend: 120, plan: 'premium', unrelated: 'x' });
  await servingVersion(model, 1);
  const byEntity = await eventually(async () => {
    const res = await post(`/models/${model}/predict`, { entityId: entity });
    return res.status === 200 ? res : undefined;
  }, 'the entity to be cached');
  const explicit = await post(`/models/${model}/predict`, {
    features: { tenure_days: 40, monthly_spend: 120, plan: 'premium' },
  });
  assert.equal(byEntity.body.prediction, explicit.body.prediction);
  assert.equal(byEntity.body.entityId, entity);
  const overridden = await post(`/models/${model}/predict`, {
    entityId: entity,
    features: { plan: 'basic', monthly_spend: null },
  });
  const expected = predictModel(v1.model, oneRow(40, null, 'basic'))[0] as number;
  assert.ok(Math.abs(overridden.body.prediction - expected) < 1e-5);
  assert.deepEqual(overridden.body.missingFeatures, ['monthly_spend']);
});

test('a batch answers one prediction per instance, in order', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const instances = [
    { features: { tenure_days: 10, monthly_spend: 150, plan: 'basic' } },
    { features: { tenure_days: 900, monthly_spend: 20, plan: 'enterprise' } },
    { features: { tenure_days: 500, monthly_spend: null, plan: null } },
  ];
  const answer = await post(`/models/${model}/predict`, { instances });
  assert.equal(answer.status, 200);
  assert.equal(answer.body.predictions.length, 3);
  for (const [i, instance] of instances.entries()) {
    const single = await post(`/models/${model}/predict`, instance);
    assert.equal(answer.body.predictions[i].prediction, single.body.prediction);
  }
});

test('explain=true answers per-feature contributions; for the logistic model they add up to the margin', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const answer = await post(`/models/${model}/predict`, {
    features: { tenure_days: 120, monthly_spend: 95.5, plan: 'basic' },
    explain: true,
  });
  assert.equal(answer.status, 200);
  const explanation = answer.body.explanation;
  assert.deepEqual(Object.keys(explanation.contributions), ['tenure_days', 'monthly_spend', 'plan']);
  assert.equal(explanation.additive, true);
  const margin = Math.log(answer.body.prediction / (1 - answer.body.prediction));
  assert.ok(Math.abs(explanation.margin - margin) < 1e-6);
});

test('explain=true on a gradient-boosted model answers TreeSHAP contributions that sum to its log-odds', async () => {
  const model = uid('churn');
  await promote(promotion(model, 2, v2));
  await servingVersion(model, 2);
  const answer = await post(`/models/${model}/predict`, {
    instances: [
      { features: { tenure_days: 120, monthly_spend: 95.5, plan: 'basic' } },
      { features: { tenure_days: 800, monthly_spend: null, plan: 'premium' } },
    ],
    explain: true,
  });
  assert.equal(answer.status, 200);
  for (const row of answer.body.predictions) {
    const { explanation } = row;
    assert.equal(explanation.method, 'tree_shap');
    assert.equal(explanation.output, 'log_odds');
    assert.equal(explanation.additive, true);
    const sum = Object.values(explanation.contributions as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(
      Math.abs(explanation.baseline + sum - explanation.margin) < 1e-9 * Math.max(1, Math.abs(explanation.margin)),
    );
    const logOdds = Math.log(row.prediction / (1 - row.prediction));
    assert.ok(Math.abs(explanation.margin - logOdds) < 1e-3, `${explanation.margin} vs ${logOdds}`);
  }
});

test('explainMethod saabas on a gradient-boosted model answers Saabas contributions, named so', async () => {
  const model = uid('churn');
  await promote(promotion(model, 2, v2));
  await servingVersion(model, 2);
  const answer = await post(`/models/${model}/predict`, {
    features: { tenure_days: 120, monthly_spend: 95.5, plan: 'basic' },
    explain: true,
    explainMethod: 'saabas',
  });
  assert.equal(answer.status, 200);
  const { explanation } = answer.body;
  assert.equal(explanation.method, 'saabas');
  assert.equal(explanation.additive, true);
  const sum = Object.values(explanation.contributions as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.ok(
    Math.abs(explanation.baseline + sum - explanation.margin) < 1e-9 * Math.max(1, Math.abs(explanation.margin)),
  );
  const logOdds = Math.log(answer.body.prediction / (1 - answer.body.prediction));
  assert.ok(Math.abs(explanation.margin - logOdds) < 1e-3, `${explanation.margin} vs ${logOdds}`);
});

test('bad input gets a clear 4xx: unknown model, alias, version, entity; missing or mistyped feature; big batch; bad body', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const features = { tenure_days: 10, monthly_spend: 150, plan: 'basic' };
  const cases: [string, unknown, number, string][] = [
    [`/models/${uid('nomodel')}/predict`, { features }, 404, 'unknown_model'],
    [`/models/${model}/predict`, { features, alias: 'staging' }, 404, 'unknown_alias'],
    [`/models/${model}/predict`, { features, version: 7 }, 404, 'unknown_version'],
    [`/models/${model}/predict`, { entityId: uid('nobody') }, 404, 'unknown_entity'],
    [`/models/${model}/predict`, { features: { tenure_days: 10, plan: 'basic' } }, 400, 'missing_feature'],
    [`/models/${model}/predict`, { features: { ...features, tenure_days: 'ten' } }, 400, 'invalid_feature'],
    [`/models/${model}/predict`, { features: { ...features, plan: 3 } }, 400, 'invalid_feature'],
    [
      `/models/${model}/predict`,
      { instances: Array.from({ length: config.PREDICT_MAX_BATCH + 1 }, () => ({ features })) },
      413,
      'batch_too_large',
    ],
    [`/models/${model}/predict`, { features: { tenure_days: [1] } }, 400, 'invalid_request'],
    [`/models/${model}/predict`, { features, instances: [{ features }] }, 400, 'invalid_request'],
    [`/models/${model}/predict`, {}, 400, 'invalid_request'],
    [`/models/${model}/predict`, { features, explain: true, explainMethod: 'lime' }, 400, 'invalid_request'],
  ];
  for (const [path, body, status, kind] of cases) {
    const res = await post(path, body);
    assert.equal(res.status, status, `${kind}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, kind);
  }
});

test('a swap under constant load drops no request: every answer is 200, and the old session is released', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const table = app.get(ServingTable);
  const old = table.serving(model, 'production');
  assert.ok(old);
  let stop = false;
  const statuses = new Map<number, number>();
  const versions: number[][] = [];
  const client = async (index: number): Promise<void> => {
    const seen: number[] = [];
    versions[index] = seen;
    while (!stop) {
      const res = await post(`/models/${model}/predict`, {
        features: { tenure_days: 100 + index, monthly_spend: 50, plan: 'basic' },
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 200) seen.push(res.body.version);
    }
  };
  const clients = Array.from({ length: 8 }, (_, i) => client(i));
  // Counted, not timed: every client has answers before the swap and after it, however slow the machine.
  const each = (enough: (seen: number[]) => boolean) => () => versions.length === 8 && versions.every(enough);
  await eventually(
    each((seen) => seen.length >= 5),
    'every client answered on v1',
  );
  await promote(promotion(model, 2, v2));
  await servingVersion(model, 2);
  await eventually(
    each((seen) => seen.filter((v) => v === 2).length >= 5),
    'every client answered on v2',
  );
  stop = true;
  await Promise.all(clients);
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  assert.deepEqual([...statuses.keys()], [200], `answers by status: ${JSON.stringify([...statuses])}`);
  assert.ok(total >= 80, `${total} requests`);
  for (const seen of versions) {
    // Per client, versions never go back: once a request saw v2, none after it saw v1.
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
    );
    assert.equal(seen.at(-1), 2);
    assert.ok(seen.includes(1));
  }
  await eventually(() => old.isReleased, 'the old session to be released');
});

test('a canary answers its share of production traffic (CANARY_PERCENT), sticky per entity', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await promote(promotion(model, 2, v2, { alias: 'canary', previousVersion: null }));
  await servingVersion(model, 1);
  await eventually(
    async () => ((await get('/models')).body.models as any[]).some((m) => m.model === model && m.alias === 'canary'),
    'the canary to serve',
  );
  const features = { tenure_days: 10, monthly_spend: 150, plan: 'basic' };
  const versions = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const entityId = `e-${i}`;
    const res = await post(`/models/${model}/predict`, { entityId, features });
    assert.equal(res.status, 200);
    versions.set(entityId, res.body.version);
  }
  const canary = [...versions.values()].filter((v) => v === 2).length;
  // 10% of 300 is 30; the binomial sd is 5.2: 12..48 is more than 3 sd either side.
  assert.ok(canary >= 12 && canary <= 48, `${canary} of 300 on the canary`);
  for (const [entityId, version] of [...versions].slice(0, 40)) {
    const again = await post(`/models/${model}/predict`, { entityId, features });
    assert.equal(again.body.version, version, `${entityId} moved`);
  }
  const explicit = await post(`/models/${model}/predict`, { features, alias: 'canary' });
  assert.equal(explicit.body.version, 2);
});

test('a shadow scores production requests but only its log sees the answer', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await promote(promotion(model, 2, v2, { alias: 'shadow', previousVersion: null }));
  await servingVersion(model, 1);
  await eventually(
    async () => ((await get('/models')).body.models as any[]).some((m) => m.model === model && m.alias === 'shadow'),
    'the shadow to serve',
  );
  const requestId = uid('req');
  const res = await fetch(
    `${base}/models/${model}/predict`,
    authorized({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ entityId: uid('c'), features: { tenure_days: 10, monthly_spend: 150, plan: 'basic' } }),
    }),
  );
  const answer = (await res.json()) as any;
  assert.equal(answer.version, 1);
  assert.equal(answer.alias, 'production');
  const logged = await readTopic(
    kafka,
    EventTypes.PredictionLoggedV1,
    (m) => loggedData(m).requestId === requestId,
    (matched) => matched.length >= 2,
  );
  const byRole = Object.fromEntries(
    logged.map((m) => {
      const v = loggedData(m);
      return [v.servingRole, v];
    }),
  );
  assert.equal(byRole.primary?.version, 1);
  assert.equal(byRole.shadow?.version, 2);
  assert.equal(byRole.shadow?.alias, 'shadow');
  assert.notEqual(byRole.shadow?.output.value, answer.prediction);
});

test('a corrupt artifact (sha256 mismatch) leaves the old version serving and emits deployment.failed', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  // Bytes at v2's address that are not v2: the store's address check and the event's sha256 both refuse them.
  const bad = await trainAndStore(store, { seed: 3 });
  const tampered = join(artifactDir, digestKey(bad.artifact.sha256));
  await writeFile(tampered, Buffer.concat([Buffer.from(bad.bytes), Buffer.from('tampered')]));
  const promoted = await promote(promotion(model, 2, bad));
  const failed = await deploymentEvent(EventTypes.DeploymentFailedV1, promoted.id);
  assert.equal(failed.stage, 'verify');
  assert.equal(failed.errorCode, 'sha256_mismatch');
  assert.equal(failed.servingVersion, 1);
  const answer = await post(`/models/${model}/predict`, {
    features: { tenure_days: 10, monthly_spend: 150, plan: 'basic' },
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.body.version, 1);
});

test('bytes that are not ONNX (their sha256 right) leave the old version serving and emit deployment.failed', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const garbage = Buffer.from(`not an onnx model ${uid('x')}`);
  const stored = await store.put(garbage, { mediaType: 'application/onnx' });
  const promoted = await promote(
    promotion(model, 2, {
      signature: v1.signature,
      artifact: { uri: stored.uri, sha256: sha256Hex(garbage), format: 'onnx', sizeBytes: garbage.length },
    }),
  );
  const failed = await deploymentEvent(EventTypes.DeploymentFailedV1, promoted.id);
  assert.equal(failed.stage, 'load');
  assert.equal(failed.errorCode, 'invalid_onnx');
  assert.equal(await served(model), 1);
});

test('a signature that does not match the graph is refused at load', async () => {
  const model = uid('churn');
  const promoted = await promote(
    promotion(model, 1, { artifact: v1.artifact, signature: { ...v1.signature, featureNames: ['tenure_days'] } }),
  );
  const failed = await deploymentEvent(EventTypes.DeploymentFailedV1, promoted.id);
  assert.equal(failed.errorCode, 'signature_mismatch');
  assert.equal(failed.servingVersion, null);
});

test('OIP v2: metadata, readiness and infer with tensors from a plain HTTP client, as KServe documents them', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  assert.deepEqual((await get('/v2/health/live')).body, { live: true });
  assert.deepEqual((await get('/v2/health/ready')).body, { ready: true });
  const ready = await get(`/v2/models/${model}/ready`);
  assert.equal(ready.body.ready, true);
  const metadata = await get(`/v2/models/${model}`);
  assert.deepEqual(metadata.body.inputs, [
    { name: 'features', datatype: 'FP32', shape: [-1, 2] },
    { name: 'plan', datatype: 'BYTES', shape: [-1, 1] },
  ]);
  const rows: RawTable = {
    rows: 2,
    columns: [
      { name: 'tenure_days', kind: 'numeric', values: Float64Array.of(30, 700) },
      { name: 'monthly_spend', kind: 'numeric', values: Float64Array.of(99, 10) },
      { name: 'plan', kind: 'categorical', values: ['basic', 'enterprise'] },
    ],
  };
  const feeds = onnxFeeds(rows);
  const res = await fetch(
    `${base}/v2/models/${model}/versions/1/infer`,
    authorized({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'oip-1',
        inputs: [
          {
            name: 'features',
            shape: [2, 2],
            datatype: 'FP32',
            data: [
              [30, 99],
              [700, 10],
            ],
          },
          { name: 'plan', shape: [2, 1], datatype: 'BYTES', data: ['basic', 'enterprise'] },
        ],
        outputs: [{ name: 'score' }, { name: 'probabilities' }],
      }),
    }),
  );
  const body = (await res.json()) as any;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.model_name, model);
  assert.equal(body.model_version, '1');
  assert.equal(body.id, 'oip-1');
  assert.deepEqual(
    body.outputs.map((o: any) => [o.name, o.datatype, o.shape]),
    [
      ['score', 'FP32', [2, 1]],
      ['probabilities', 'FP32', [2, 2]],
    ],
  );
  const expected = predictModel(v1.model, rows);
  body.outputs[0].data.forEach((score: number, i: number) =>
    assert.ok(Math.abs(score - (expected[i] as number)) < 1e-5),
  );
  assert.ok(feeds.features);
});

test('OIP v2: a malformed tensor is a 400 naming it, an unknown model a 404', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const cases: [unknown, number, string][] = [
    [
      {
        inputs: [
          { name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] },
          { name: 'plan', shape: [1, 1], datatype: 'BYTES', data: ['a'] },
        ],
      },
      400,
      'malformed_tensor',
    ],
    [
      {
        inputs: [
          { name: 'features', shape: [1, 2], datatype: 'FP32', data: [1] },
          { name: 'plan', shape: [1, 1], datatype: 'BYTES', data: ['a'] },
        ],
      },
      400,
      'malformed_tensor',
    ],
    [
      {
        inputs: [
          { name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 'x'] },
          { name: 'plan', shape: [1, 1], datatype: 'BYTES', data: ['a'] },
        ],
      },
      400,
      'malformed_tensor',
    ],
    [{ inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] }, 400, 'malformed_tensor'],
    [
      {
        inputs: [
          { name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] },
          { name: 'plan', shape: [1, 1], datatype: 'BYTES', data: ['a'] },
        ],
        outputs: [{ name: 'nope' }],
      },
      400,
      'malformed_tensor',
    ],
    [{ inputs: 'x' }, 400, 'invalid_request'],
  ];
  for (const [body, status, kind] of cases) {
    const res = await post(`/v2/models/${model}/infer`, body);
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.error, kind);
  }
  const unknown = await post(`/v2/models/${uid('nomodel')}/infer`, {
    inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] }],
  });
  assert.equal(unknown.status, 404);
});

test('every prediction is logged as mlops.prediction.logged.v1 with its request id, features and output', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const requestId = uid('req');
  const res = await fetch(
    `${base}/models/${model}/predict`,
    authorized({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ features: { tenure_days: 5, monthly_spend: null, plan: 'basic' } }),
    }),
  );
  const answer = (await res.json()) as any;
  assert.equal(answer.requestId, requestId);
  const [logged] = await readTopic(
    kafka,
    EventTypes.PredictionLoggedV1,
    (m) => loggedData(m).requestId === requestId,
    (matched) => matched.length >= 1,
  );
  // Binary mode by default, as every event: the attributes in ce_* headers.
  assert.equal(String(logged?.headers?.ce_type), EventTypes.PredictionLoggedV1);
  const entry = loggedData(logged as KafkaMessage);
  assert.equal(entry.model, model);
  assert.equal(entry.version, 1);
  assert.deepEqual(entry.features, { tenure_days: 5, monthly_spend: null, plan: 'basic' });
  assert.deepEqual(entry.missingFeatures, ['monthly_spend']);
  assert.equal(entry.output.value, answer.prediction);
  assert.equal(entry.channel, 'http');
  assert.equal(entry.servingRole, 'primary');
  // the process sample of the batch: the monitor's cost proxy (CPU seconds per 1,000 predictions) and memory
  assert.match(entry.resources.instanceId, /^deployer-/);
  assert.ok(entry.resources.cpuSeconds > 0, `cumulative CPU seconds ${entry.resources.cpuSeconds}`);
  assert.ok(entry.resources.rssBytes > 10_000_000, `resident memory ${entry.resources.rssBytes}`);
});

test('streaming scoring: prediction.requested is answered by prediction.completed keyed by entity', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const entity = uid('customer');
  await materialize(entity, { tenure_days: 77, monthly_spend: 88, plan: 'premium' });
  const byHttp = await eventually(async () => {
    const res = await post(`/models/${model}/predict`, { entityId: entity });
    return res.status === 200 ? res.body : undefined;
  }, 'the entity to be cached');
  const requestIds = [uid('stream'), uid('stream')];
  const now = new Date().toISOString();
  await producer.publish(
    newEvent(
      EventTypes.PredictionRequestedV1,
      { requestId: requestIds[0] as string, model, alias: 'production', entityId: entity, requestedAt: now },
      { source: TEST_SOURCE },
    ),
  );
  await producer.publish(
    newEvent(
      EventTypes.PredictionRequestedV1,
      { requestId: requestIds[1] as string, model, alias: 'production', entityId: uid('nobody'), requestedAt: now },
      { source: TEST_SOURCE },
    ),
  );
  // Every deployer app of the test run (each in a consumer group of its own) answers the stream: this app's answers
  // are those naming its instance.
  const instanceId = app.get<string>(INSTANCE_ID);
  const completed = await readTopic(
    kafka,
    EventTypes.PredictionCompletedV1,
    (m) => {
      const answer = JSON.parse(m.value?.toString() ?? '{}');
      return requestIds.includes(answer.requestId) && answer.instanceId === instanceId;
    },
    (matched) => matched.length >= 2,
  );
  const byId = new Map(
    completed.map((m) => {
      const v = JSON.parse(m.value?.toString() ?? '{}');
      return [v.requestId, { value: v, key: m.key?.toString() }];
    }),
  );
  const ok = byId.get(requestIds[0]);
  assert.equal(ok?.value.result.status, 'succeeded');
  assert.equal(ok?.value.result.output.value, byHttp.prediction);
  assert.equal(ok?.key, `${model}/${entity}`);
  assert.equal(byId.get(requestIds[1])?.value.result.error.code, 'unknown_entity');
});

test('GET /models/:name/versions/:v/bundle returns the ONNX file with its signature and features', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const bundle = await get(`/models/${model}/versions/1/bundle`);
  assert.equal(bundle.status, 200);
  assert.equal(sha256Hex(Buffer.from(bundle.body.artifact.base64, 'base64')), v1.artifact.sha256);
  assert.deepEqual(
    bundle.body.features.map((f: any) => [f.name, f.kind]),
    [
      ['tenure_days', 'numeric'],
      ['monthly_spend', 'numeric'],
      ['plan', 'categorical'],
    ],
  );
  assert.deepEqual(bundle.body.featureView, FEATURE_VIEW);
  assert.equal((await get(`/models/${model}/versions/9/bundle`)).status, 404);
});

test('batch scoring of a snapshot equals online scoring of the same rows', async () => {
  const model = uid('churn');
  await promote(promotion(model, 1, v1));
  await servingVersion(model, 1);
  const plans = ['basic', 'premium', 'enterprise', null];
  const rows = Array.from({ length: 2500 }, (_, i) => ({
    entity_id: `c-${i}`,
    event_time: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
    tenure_days: (i * 37) % 1000,
    monthly_spend: i % 9 === 0 ? null : (i * 13) % 200,
    plan: plans[i % 4],
    churned: i % 2 === 0,
  }));
  const snapshot = await store.put(Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join('')), {
    mediaType: 'application/x-ndjson',
  });
  const started = await post(`/models/${model}/versions/1/batch-scores`, {
    snapshotUri: snapshot.uri,
    snapshotSha256: snapshot.sha256,
  });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const job = await jobEndAt(base, started.body.id, 'the batch scoring job to end');
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.rowsScored, 2500);
  const scores = (await store.get(job.result.uri))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.equal(scores.length, 2500);
  const sample = rows.slice(1200, 1500);
  const online = await post(`/models/${model}/predict`, {
    instances: sample.map((row) => ({
      features: { tenure_days: row.tenure_days, monthly_spend: row.monthly_spend, plan: row.plan ?? null },
    })),
  });
  sample.forEach((row, i) => {
    const scored = scores[1200 + i];
    assert.equal(scored.entity_id, row.entity_id);
    assert.equal(scored.event_time, row.event_time);
    assert.ok(Math.abs(scored.score - online.body.predictions[i].prediction) < 1e-6, `row ${1200 + i}`);
    assert.equal(scored.label, online.body.predictions[i].label);
  });
  const corrupt = await post(`/models/${model}/versions/1/batch-scores`, {
    snapshotUri: snapshot.uri,
    snapshotSha256: 'f'.repeat(64),
  });
  const failed = await jobEndAt(base, corrupt.body.id, 'the corrupt job to end');
  assert.equal(failed.error.code, 'sha256_mismatch');
});

test('a restarted deployer serves the latest promoted version of each model with no manual step', async () => {
  const [a, b] = [uid('churn'), uid('churn')];
  await promote(promotion(a, 1, v1));
  await promote(promotion(b, 1, v1));
  await promote(promotion(a, 2, v2));
  await servingVersion(a, 2);
  await servingVersion(b, 1);
  const { config: restartConfig } = await testConfig({ ARTIFACT_STORE_URL: config.ARTIFACT_STORE_URL });
  const second = await start(restartConfig);
  try {
    const at = await listen(second);
    await eventually(
      async () => (await fetch(`${at}/health/ready`)).status === 200,
      'the restarted deployer to be ready',
    );
    assert.equal(await served(a, at), 2);
    assert.equal(await served(b, at), 1);
    const answer = await post(
      `/models/${a}/predict`,
      { features: { tenure_days: 10, monthly_spend: 150, plan: 'basic' } },
      at,
    );
    assert.equal(answer.body.version, 2);
  } finally {
    await second.close();
  }
});
