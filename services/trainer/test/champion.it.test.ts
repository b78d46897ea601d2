// Champion/challenger: the trainer keeps the version each alias points at (mlops.model.promoted.v1) and scores the
// production version on every new candidate's holdout, against the real Kafka and Postgres.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import * as ort from 'onnxruntime-node';
import { LocalArtifactStore, digestKey } from '@mlops/artifacts';
import {
  type DatasetSnapshotCreatedV1,
  EventTypes,
  type ModelPromotedV1,
  type ModelTrainedV1,
  type TrainingRequestedV1,
} from '@mlops/contracts';
import { EventProducer, newEvent } from '@mlops/messaging';
import { eventually, readTopic, testKafka } from '@mlops/testing';
import { createTrainerApp } from '../src/app';
import { metricsOf } from '../src/domain/training-job';
import { ChampionStore } from '../src/infrastructure/champion-store';
import { RunStore } from '../src/infrastructure/run-store';
import { CHURN_COLUMNS, type SnapshotRow, churnRows, encodeRows, testConfig } from './support';

const TEST_SOURCE = 'urn:mlops:trainer-champion-test';
let app: INestApplication;
let artifactDir: string;
let producer: EventProducer;
let store: LocalArtifactStore;
let champions: ChampionStore;

before(async () => {
  const setup = await testConfig();
  artifactDir = setup.artifactDir;
  store = new LocalArtifactStore(artifactDir);
  app = await createTrainerApp(setup.config);
  await app.listen(0, '127.0.0.1');
  producer = app.get(EventProducer);
  champions = app.get(ChampionStore);
});

after(async () => {
  await app?.close();
  await rm(artifactDir, { recursive: true, force: true });
});

function trainingRequest(model: string): TrainingRequestedV1 {
  return {
    trainingRunId: randomUUID(),
    model,
    task: 'binary_classification',
    algorithm: 'gradient_boosting',
    featureView: { name: 'customer_features', version: 1 },
    labels: { dataset: 'churn_labels', field: 'churned' },
    trainingWindow: { start: '2025-08-01T00:00:00Z', end: '2025-11-01T00:00:00Z' },
    params: { iterations: 20, seed: 3 },
    reason: { trigger: 'manual' },
    requestedBy: 'trainer-champion-test',
    requestedAt: new Date().toISOString(),
  };
}

/** The trainer's run of a request trained on these rows: the run as GET would show it, and its model.trained event. */
async function train(model: string, rows: readonly SnapshotRow[]): Promise<{ run: any; event: ModelTrainedV1 }> {
  const request = trainingRequest(model);
  await producer.publish(
    newEvent(EventTypes.TrainingRequestedV1, request, { source: TEST_SOURCE, subject: request.trainingRunId }),
  );
  const snapshotId = await eventually(async () => {
    const res = await fetchRun(request.trainingRunId);
    return res?.status === 'waiting_for_snapshot' ? (res.snapshotId as string) : undefined;
  }, `run ${request.trainingRunId} to wait for its snapshot`);
  const stored = await store.put(encodeRows(rows), { mediaType: 'application/x-ndjson' });
  const created: DatasetSnapshotCreatedV1 = {
    snapshotId,
    trainingRunId: request.trainingRunId,
    featureView: request.featureView,
    labels: request.labels,
    timeRange: request.trainingWindow,
    uri: stored.uri,
    sha256: stored.sha256,
    format: 'jsonl',
    rows: rows.length,
    sizeBytes: stored.sizeBytes,
    columns: CHURN_COLUMNS.map((column) => ({ ...column })),
    createdAt: new Date().toISOString(),
  };
  await producer.publish(
    newEvent(EventTypes.DatasetSnapshotCreatedV1, created, { source: TEST_SOURCE, subject: snapshotId }),
  );
  const run = await eventually(
    async () => {
      const body = await fetchRun(request.trainingRunId);
      return body?.status === 'succeeded' || body?.status === 'failed' ? body : undefined;
    },
    `run ${request.trainingRunId} to end`,
    60_000,
  );
  assert.equal(run.status, 'succeeded', JSON.stringify(run.failure));
  const messages = await readTopic(
    testKafka('trainer-champion-reader'),
    EventTypes.ModelTrainedV1,
    (message) => message.key?.toString() === model,
    (matched) =>
      matched.some((message) => JSON.parse(message.value?.toString() ?? '{}').trainingRunId === request.trainingRunId),
  );
  const event = messages
    .map((message) => JSON.parse(message.value?.toString() ?? '{}') as ModelTrainedV1)
    .find((trained) => trained.trainingRunId === request.trainingRunId);
  assert.ok(event);
  return { run, event };
}

async function fetchRun(id: string): Promise<any> {
  const runs = app.get(RunStore);
  return runs.find(runs.dataSource.manager, id);
}

/** Announces, as the registry would, that the alias of the model points at this trained model as `version`. */
async function promote(
  trained: ModelTrainedV1,
  version: number,
  overrides: Partial<ModelPromotedV1> = {},
  promotedAt = new Date(),
): Promise<ModelPromotedV1> {
  const promoted: ModelPromotedV1 = {
    model: trained.model,
    alias: 'production',
    version,
    previousVersion: null,
    trigger: 'manual',
    reason: 'champion test',
    gate: null,
    artifact: trained.artifact,
    signature: trained.signature,
    featureView: trained.lineage.featureView,
    promotedBy: 'trainer-champion-test',
    promotedAt: promotedAt.toISOString(),
    ...overrides,
  };
  await producer.publish(
    newEvent(EventTypes.ModelPromotedV1, promoted, {
      source: TEST_SOURCE,
      subject: `${promoted.model}/${promoted.alias}`,
    }),
  );
  await eventually(async () => {
    const known = await champions.find(champions.dataSource.manager, promoted.model, promoted.alias);
    return known?.version === promoted.version && known.promotedAt === promoted.promotedAt ? true : undefined;
  }, `the trainer to know ${promoted.model}/${promoted.alias} -> ${promoted.version}`);
  return promoted;
}

/**
 * The metrics of an ONNX model on the holdout of a 600-row snapshot, computed here: the time-ordered split holds out
 * the latest 20% (churnRows' event times grow with the row), fed as the signature says.
 */
async function metricsOnHoldout(onnx: Uint8Array, rows: readonly SnapshotRow[]): Promise<Record<string, number>> {
  const holdout = rows.slice(rows.length - Math.round(rows.length * 0.2));
  const numeric = new Float32Array(holdout.length * 2);
  holdout.forEach((row, r) => {
    numeric[r * 2] = row['tenure_days'] as number;
    numeric[r * 2 + 1] = row['monthly_spend'] === null ? Number.NaN : (row['monthly_spend'] as number);
  });
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({
      features: new ort.Tensor('float32', numeric, [holdout.length, 2]),
      plan: new ort.Tensor(
        'string',
        holdout.map((row) => row['plan'] as string),
        [holdout.length, 1],
      ),
    });
    const scores = Float64Array.from(out['score']?.data as Float32Array);
    const labels = Float64Array.from(holdout.map((row) => (row['churned'] ? 1 : 0)));
    return metricsOf('binary', labels, scores).metrics;
  } finally {
    await session.release();
  }
}

function assertClose(actual: Record<string, number>, expected: Record<string, number>): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [name, value] of Object.entries(expected))
    assert.ok(Math.abs((actual[name] as number) - value) < 1e-9, `${name}: ${actual[name]} vs ${value}`);
}

test("a new run's model.trained carries the production version's metrics on the new run's holdout", async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const first = await train(model, churnRows(600, 1));
  assert.equal(first.event.champion, undefined, 'no version was promoted before the first run');
  await promote(first.event, 1);

  const rows = churnRows(600, 5);
  const second = await train(model, rows);
  const champion = second.event.champion;
  assert.ok(champion?.metrics, JSON.stringify(champion));
  assert.equal(champion.alias, 'production');
  assert.equal(champion.version, 1);
  assert.equal(champion.evaluatedOn, 'candidate_holdout');
  // The holdout computed here is the trainer's: the candidate's own ONNX gives its announced metrics on it ...
  const candidate = await metricsOnHoldout(await store.get(second.event.artifact.uri), rows);
  assert.ok(Math.abs((candidate['auc'] as number) - (second.event.metrics['auc'] as number)) < 1e-9);
  // ... and v1's ONNX gives the champion's metrics on the same rows, not the ones v1 had on its own holdout.
  assertClose(champion.metrics, await metricsOnHoldout(await store.get(first.event.artifact.uri), rows));
  assert.notEqual(champion.metrics['log_loss'], first.event.metrics['log_loss']);
  assert.deepEqual(second.run.result.champion, champion);
});

test('a rollback to an older version makes that version the champion', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const first = await train(model, churnRows(600, 1));
  const second = await train(model, churnRows(600, 2));
  const at = Date.now();
  await promote(first.event, 1, {}, new Date(at - 2_000));
  await promote(second.event, 2, { previousVersion: 1 }, new Date(at - 1_000));
  await promote(first.event, 1, { previousVersion: 2, trigger: 'rollback' }, new Date(at));

  const third = await train(model, churnRows(600, 3));
  assert.equal(third.event.champion?.version, 1);
  assert.ok(third.event.champion?.metrics);
});

test('a champion whose artifact is missing is skipped with the reason; the run still succeeds', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const first = await train(model, churnRows(600, 1));
  const absent = 'f'.repeat(64);
  await promote(first.event, 1, {
    artifact: {
      ...first.event.artifact,
      sha256: absent,
      uri: first.event.artifact.uri.replace(/[a-f0-9]{64}$/, absent),
    },
  });

  const second = await train(model, churnRows(600, 5));
  assert.equal(second.event.champion?.version, 1);
  assert.equal(second.event.champion?.metrics, undefined);
  assert.match(second.event.champion?.skipped ?? '', /not in the artifact store/);
});

test('a champion whose artifact is corrupt is skipped with the reason; the run still succeeds', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const first = await train(model, churnRows(600, 1));
  await promote(first.event, 1);
  // Same address, other bytes: the sha256 no longer matches.
  await writeFile(join(artifactDir, ...digestKey(first.event.artifact.sha256).split('/')), Buffer.from('not onnx'));

  const second = await train(model, churnRows(600, 5));
  assert.equal(second.event.champion?.metrics, undefined);
  assert.match(second.event.champion?.skipped ?? '', /is corrupt/);
});

test('a champion whose signature names a feature the snapshot lacks is skipped with the reason', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const first = await train(model, churnRows(600, 1));
  // A champion of one float input over two features, one of which this snapshot does not have.
  const { inputs: _inputs, outputs: _outputs, ...signature } = first.event.signature;
  await promote(first.event, 1, { signature: { ...signature, featureNames: ['tenure_days', 'income'] } });

  const second = await train(model, churnRows(600, 5));
  assert.equal(second.event.champion?.metrics, undefined);
  assert.match(second.event.champion?.skipped ?? '', /lacks the feature\(s\) income/);
});
