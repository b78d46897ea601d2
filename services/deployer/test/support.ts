// Helpers of the deployer tests: a model trained and exported with libs/ml into a local artifact store, the
// promotion a registry would publish for it, and an app config against the real stack.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { INestApplication } from '@nestjs/common';
import { pathToFileURL } from 'node:url';
import { LocalArtifactStore } from '@mlops/artifacts';
import { loadConfig } from '@mlops/config';
import { EventTypes, type ModelPromotedV1 } from '@mlops/contracts';
import { EventProducer, startGroupAtEnd } from '@mlops/messaging';
import {
  type HyperParams,
  type RawTable,
  type TrainedModel,
  exportOnnx,
  trainPipeline,
  type Algorithm,
} from '@mlops/ml';
import {
  TEST_ADMIN_TOKEN,
  TEST_EPOCH_MS,
  authorized,
  eventually,
  kafkaTestEnv,
  requireEnv,
  testKafka,
  uid,
} from '@mlops/testing';
import { createDeployerApp } from '../src/app';
import { type DeployerConfig, DeployerConfigSpec } from '../src/config';
import { servingSignatureOf } from '../src/domain/signature';
import { type BatchingOptions, LoadedModel, createSession, graphOf } from '../src/infrastructure/loaded-model';

export const FEATURE_VIEW = { name: 'customer_features', version: 1 } as const;

/** A config against the real stack: its own consumer group and artifact directory, topics read from the test start. */
export async function testConfig(
  overrides: Record<string, string> = {},
): Promise<{ config: DeployerConfig; artifactDir: string; store: LocalArtifactStore }> {
  const artifactDir = await mkdtemp(join(tmpdir(), 'deployer-artifacts-'));
  const group = uid('deployer-test');
  await startGroupAtEnd(testKafka('deployer-test'), group, [
    EventTypes.PredictionRequestedV1,
    EventTypes.AuthTokenChangedV1,
  ]);
  const config = loadConfig('deployer', DeployerConfigSpec, {
    ...kafkaTestEnv(),
    DATABASE_URL: requireEnv('DATABASE_URL'),
    LOG_LEVEL: 'error',
    CONSUMER_GROUP: group,
    ARTIFACT_STORE_URL: pathToFileURL(artifactDir).href,
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    REPLAY_SINCE: new Date(TEST_EPOCH_MS).toISOString(),
    PREDICTION_LOG_FLUSH_MS: '10',
    ...overrides,
  });
  return { config, artifactDir, store: new LocalArtifactStore(artifactDir) };
}

/** Churn-like rows: tenure and spend (10% missing) numeric, plan categorical; deterministic per seed. */
export function churnTable(rows: number, seed: number): { table: RawTable; labels: Float64Array } {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const plans = ['basic', 'premium', 'enterprise'];
  const tenure = new Float64Array(rows);
  const spend = new Float64Array(rows);
  const plan: (string | null)[] = [];
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    tenure[i] = Math.floor(next() * 1000);
    spend[i] = next() < 0.1 ? Number.NaN : Math.round(next() * 20000) / 100;
    plan.push(plans[Math.floor(next() * 3)] as string);
    const churn =
      ((tenure[i] as number) < 300 && ((spend[i] as number) || 100) > 80) || (plan[i] === 'basic' && next() < 0.7);
    labels[i] = churn ? 1 : 0;
  }
  return {
    table: {
      rows,
      columns: [
        { name: 'tenure_days', kind: 'numeric', values: tenure },
        { name: 'monthly_spend', kind: 'numeric', values: spend },
        { name: 'plan', kind: 'categorical', values: plan },
      ],
    },
    labels,
  };
}

export interface StoredModel {
  readonly model: TrainedModel;
  readonly bytes: Uint8Array;
  readonly artifact: ModelPromotedV1['artifact'];
  readonly signature: ModelPromotedV1['signature'];
}

/** Trains a binary model on churn rows, exports it to ONNX and stores it (content-addressed). */
export async function trainAndStore(
  store: LocalArtifactStore,
  options: { algorithm?: Algorithm; params?: HyperParams; seed?: number; rows?: number } = {},
): Promise<StoredModel> {
  const { table, labels } = churnTable(options.rows ?? 400, options.seed ?? 1);
  const { model } = trainPipeline(
    table,
    labels,
    'binary',
    options.algorithm ?? 'logistic_regression',
    options.params ?? {},
    options.seed ?? 1,
  );
  const exported = exportOnnx(model, { modelName: 'churn', producerVersion: 'test' });
  const stored = await store.put(exported.bytes, { mediaType: 'application/onnx', name: 'model.onnx' });
  return {
    model,
    bytes: exported.bytes,
    artifact: { uri: stored.uri, sha256: stored.sha256, format: 'onnx', sizeBytes: stored.sizeBytes },
    signature: {
      inputName: exported.signature.inputName,
      inputDtype: exported.signature.inputDtype,
      featureNames: [...exported.signature.featureNames],
      outputName: exported.signature.outputName,
    },
  };
}

/** The promotion a registry publishes when an alias moves to this version. */
export function promotion(
  model: string,
  version: number,
  stored: Pick<StoredModel, 'artifact' | 'signature'>,
  overrides: Partial<ModelPromotedV1> = {},
): ModelPromotedV1 {
  return {
    model,
    alias: 'production',
    version,
    previousVersion: version > 1 ? version - 1 : null,
    trigger: 'manual',
    reason: 'deployer test',
    gate: null,
    artifact: stored.artifact,
    signature: stored.signature,
    featureView: { ...FEATURE_VIEW },
    promotedBy: 'deployer-test',
    promotedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** An exported model loaded as the deployer loads one (session, signature checked against the graph). */
export async function loadedModelOf(
  exported: ReturnType<typeof exportOnnx>,
  batching: BatchingOptions,
  runs: number[] = [],
): Promise<LoadedModel> {
  const session = await createSession(exported.bytes);
  const graph = graphOf(session);
  const signature = servingSignatureOf(exported.signature, graph.inputs, graph.outputs);
  assert.ok(signature.ok);
  const deployment = {
    model: 'churn',
    alias: 'production',
    version: 1,
    artifactUri: 'sha256:x',
    artifactSha256: 'x',
    featureView: { name: 'v', version: 1 },
    promotedSignature: exported.signature,
    servingSince: new Date().toISOString(),
    promotionEventId: 'test-promotion',
  };
  return new LoadedModel(deployment, signature.value, session, batching, (rows) => runs.push(rows));
}

/** A small gradient-boosted churn model loaded as the deployer loads one; `runs` records the rows of each session run. */
export async function loadedChurnModel(batching: BatchingOptions, runs: number[] = []): Promise<LoadedModel> {
  const { table, labels } = churnTable(300, 5);
  const { model } = trainPipeline(table, labels, 'binary', 'gradient_boosting', { iterations: 15 }, 5);
  return loadedModelOf(exportOnnx(model, { modelName: 'churn', producerVersion: 'test' }), batching, runs);
}

/** Listens on a free port of 127.0.0.1; the app's base URL. */
export async function listen(target: INestApplication): Promise<string> {
  await target.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(target.getHttpServer().address() as { port: number }).port}`;
}

/** A JSON POST as the test admin; the status and the JSON body. */
export async function postAt(at: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(
    `${at}${path}`,
    authorized({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  );
  return { status: res.status, body: await res.json() };
}

/** A GET as the test admin; the status and the JSON body. */
export async function getAt(at: string, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${at}${path}`, authorized());
  return { status: res.status, body: await res.json() };
}

/** A batch scoring job once it is no longer running, as the deployer at `at` answers it. */
export async function jobEndAt(at: string, id: string, what = 'the batch scoring job to end'): Promise<any> {
  return eventually(async () => {
    const res = await getAt(at, `/batch-scores/${id}`);
    return res.body.status !== 'running' ? res.body : undefined;
  }, what);
}

/** The version of `model` the deployer at `at` serves, if any. */
export async function servedAt(at: string, model: string): Promise<number | undefined> {
  const list = await getAt(at, '/models');
  return (list.body.models as { model: string; version: number }[]).find((m) => m.model === model)?.version;
}

/** Waits until the deployer at `at` serves that version of `model`. */
export async function servingVersionAt(at: string, model: string, version: number): Promise<void> {
  await eventually(async () => (await servedAt(at, model)) === version, `${model} v${version} to serve`);
}

/** A deployer app of a test file, listening, with its config, artifact store and producer. */
export interface TestDeployer {
  readonly app: INestApplication;
  readonly config: DeployerConfig;
  readonly artifactDir: string;
  readonly store: LocalArtifactStore;
  readonly base: string;
  readonly producer: EventProducer;
  /** Closes the app and deletes its artifact directory. */
  close(): Promise<void>;
}

export async function startTestDeployer(): Promise<TestDeployer> {
  const { config, artifactDir, store } = await testConfig();
  const app = await createDeployerApp(config);
  const base = await listen(app);
  return {
    app,
    config,
    artifactDir,
    store,
    base,
    producer: app.get(EventProducer),
    close: async () => {
      await app.close();
      await rm(artifactDir, { recursive: true, force: true });
    },
  };
}
