// The trainer in-process against the real Kafka and Postgres, with a local artifact directory: events go in
// through an EventProducer and come out on their topics; HTTP through app.listen(0).
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
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
import { authorized, eventually, readTopic, testKafka } from '@mlops/testing';
import { createTrainerApp } from '../src/app';
import type { TrainerConfig } from '../src/config';
import { metricsOf } from '../src/domain/training-job';
import { ChampionStore } from '../src/infrastructure/champion-store';
import { RunStore } from '../src/infrastructure/run-store';
import { TrainOnSnapshotService } from '../src/training-runs/train-on-snapshot/train-on-snapshot.service';
import { CHURN_COLUMNS, type SnapshotRow, churnRows, encodeRows, testConfig } from './support';

const TEST_SOURCE = 'urn:mlops:trainer-test';
let app: INestApplication;
let config: TrainerConfig;
let artifactDir: string;
let base: string;
let producer: EventProducer;
let store: LocalArtifactStore;

before(async () => {
  const setup = await testConfig();
  config = setup.config;
  artifactDir = setup.artifactDir;
  store = new LocalArtifactStore(artifactDir);
  app = await createTrainerApp(config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  producer = app.get(EventProducer);
});

after(async () => {
  await app?.close();
  await rm(artifactDir, { recursive: true, force: true });
});

function trainingRequest(model: string, overrides: Partial<TrainingRequestedV1> = {}): TrainingRequestedV1 {
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
    requestedBy: 'trainer-test',
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}

async function getRun(id: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/training-runs/${id}`, authorized());
  return { status: res.status, body: await res.json() };
}

/** The run once it waits for its snapshot: the snapshot id it asked feature-store for. */
async function waitingRun(id: string): Promise<string> {
  return eventually(async () => {
    const run = await getRun(id);
    return run.status === 200 && run.body.status === 'waiting_for_snapshot'
      ? (run.body.snapshotId as string)
      : undefined;
  }, `run ${id} to wait for its snapshot`);
}

async function endedRun(id: string): Promise<any> {
  return eventually(
    async () => {
      const run = await getRun(id);
      return run.body.status === 'succeeded' || run.body.status === 'failed' ? run.body : undefined;
    },
    `run ${id} to end`,
    60_000,
  );
}

/** Writes the rows as a snapshot file into the artifact store and says so as feature-store would. */
async function snapshotCreated(
  request: TrainingRequestedV1,
  snapshotId: string,
  rows: readonly SnapshotRow[],
): Promise<DatasetSnapshotCreatedV1> {
  const bytes = encodeRows(rows);
  const stored = await store.put(bytes, { mediaType: 'application/x-ndjson' });
  return {
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
    datasetVersions: {
      features: { dataset: 'customer_activity', version: 2 },
      labels: { dataset: request.labels.dataset, version: 1 },
    },
    createdAt: new Date().toISOString(),
  };
}

function publishCreated(data: DatasetSnapshotCreatedV1) {
  return producer.publish(
    newEvent(EventTypes.DatasetSnapshotCreatedV1, data, { source: TEST_SOURCE, subject: data.snapshotId }),
  );
}

function publishRequested(data: TrainingRequestedV1) {
  return producer.publish(
    newEvent(EventTypes.TrainingRequestedV1, data, { source: TEST_SOURCE, subject: data.trainingRunId }),
  );
}

/** The model.trained events of a model, read until the marker run's event (same key, so the same partition). */
async function trainedEvents(model: string, markerRunId: string): Promise<any[]> {
  const messages = await readTopic(
    testKafka('trainer-test-reader'),
    EventTypes.ModelTrainedV1,
    (message) => message.key?.toString() === model,
    (matched) => matched.some((message) => JSON.parse(message.value?.toString() ?? '{}').trainingRunId === markerRunId),
  );
  return messages.map((message) => JSON.parse(message.value?.toString() ?? '{}'));
}

test('POST /training-runs needs the trainer role', async () => {
  const res = await fetch(`${base}/training-runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 401);
});

test('POST /training-runs takes a search and sliceBy and carries them in the request', async () => {
  const {
    trainingRunId: _drop,
    requestedBy: _by,
    requestedAt: _at,
    ...body
  } = trainingRequest(`churn-${randomUUID().slice(0, 8)}`);
  const search = {
    strategy: 'random',
    space: { learning_rate: { min: 0.01, max: 0.3, scale: 'log' }, max_depth: { values: [2, 4] } },
    maxTrials: 4,
    timeBudgetSeconds: 60,
  };
  const post = (extra: Record<string, unknown>) =>
    fetch(
      `${base}/training-runs`,
      authorized({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, ...extra }),
      }),
    );
  const posted = await post({ search, sliceBy: ['plan'] });
  assert.equal(posted.status, 202);
  const { trainingRunId } = (await posted.json()) as { trainingRunId: string };
  await waitingRun(trainingRunId);
  const request = (await getRun(trainingRunId)).body.request;
  assert.deepEqual(request.search, search);
  assert.deepEqual(request.sliceBy, ['plan']);
  const unknownParam = await post({ search: { space: { colour: { values: ['red'] } } } });
  assert.equal(unknownParam.status, 400);
});

test('a requested run trains on its snapshot and announces an ONNX model that ONNX Runtime loads', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const { trainingRunId: _drop, requestedBy: _by, requestedAt: _at, ...body } = trainingRequest(model);
  const posted = await fetch(
    `${base}/training-runs`,
    authorized({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  );
  assert.equal(posted.status, 202);
  const { trainingRunId } = (await posted.json()) as { trainingRunId: string };
  const snapshotId = await waitingRun(trainingRunId);
  const request = (await getRun(trainingRunId)).body.request as TrainingRequestedV1;
  await publishCreated(await snapshotCreated(request, snapshotId, churnRows(600)));

  const run = await endedRun(trainingRunId);
  assert.equal(run.status, 'succeeded', JSON.stringify(run.failure));
  assert.equal(run.progress, 1);
  const [event] = await trainedEvents(model, trainingRunId);
  assert.equal(event.trainingRunId, trainingRunId);
  assert.equal(event.lineage.snapshotId, snapshotId);
  assert.equal(event.lineage.codeVersion, 'git:test');
  assert.deepEqual(event.signature.featureNames, ['tenure_days', 'monthly_spend']);
  assert.deepEqual(event.lineage.rows, { training: 480, holdout: 120 });
  assert.deepEqual(event.lineage.datasetVersions, {
    features: { dataset: 'customer_activity', version: 2 },
    labels: { dataset: request.labels.dataset, version: 1 },
  });
  assert.ok(event.metrics.roc_auc > 0.8, `AUC ${event.metrics.roc_auc}`);
  assert.deepEqual(Object.keys(event.referenceDistributions).sort(), ['monthly_spend', 'plan', 'tenure_days']);

  const bytes = await store.get(event.artifact.uri);
  assert.equal(bytes.length, event.artifact.sizeBytes);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const out = await session.run({
    features: new ort.Tensor('float32', Float32Array.from([100, 150, 900, Number.NaN]), [2, 2]),
    plan: new ort.Tensor('string', ['premium', 'unheard-of'], [2, 1]),
  });
  assert.deepEqual(out['probabilities']?.dims, [2, 2]);
  assert.deepEqual(out['label']?.dims, [2]);
  await session.release();
});

/** Our own tracking API's view of the tracked run of a training run (its id without dashes). */
async function trackedRun(trainingRunId: string): Promise<any> {
  const res = await fetch(`${base}/runs/${trainingRunId.replace(/-/g, '')}`, authorized());
  assert.equal(res.status, 200);
  return res.json();
}

test('a trained run is a tracked run of the experiment named after the model: params, metrics, curve, model, who and why', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const request = trainingRequest(model, {
    requestedBy: 'alice',
    reason: { trigger: 'drift', detail: 'plan mix moved' },
  });
  await publishRequested(request);
  const snapshotId = await waitingRun(request.trainingRunId);
  const created = await snapshotCreated(request, snapshotId, churnRows(400, 11));
  await publishCreated(created);
  assert.equal((await endedRun(request.trainingRunId)).status, 'succeeded');

  const tracked = await trackedRun(request.trainingRunId);
  assert.equal(tracked.status, 'FINISHED');
  assert.equal(tracked.userId, 'alice');
  assert.deepEqual(tracked.reason, { trigger: 'drift', detail: 'plan mix moved' });
  assert.equal(tracked.tags['mlops.reason'], 'drift');
  // Its training data, searchable by tag: the snapshot, and the datasets at their schema versions.
  assert.equal(tracked.tags['mlops.snapshot_id'], snapshotId);
  assert.equal(tracked.tags['mlops.snapshot_sha256'], created.sha256);
  assert.equal(tracked.tags['mlops.features_dataset'], 'customer_activity@2');
  assert.equal(tracked.tags['mlops.labels_dataset'], `${request.labels.dataset}@1`);
  // ...and as MLflow's dataset input: the training set, identified by its sha256.
  assert.deepEqual(tracked.datasets, [
    {
      name: `${request.featureView.name}-v${request.featureView.version}`,
      digest: created.sha256.slice(0, 16),
      sourceType: 'mlops_snapshot',
      source: JSON.stringify({ uri: created.uri, sha256: created.sha256 }),
      context: 'training',
    },
  ]);
  assert.equal(tracked.params.iterations, '20');
  assert.equal(tracked.params.algorithm, 'gradient_boosting');
  assert.ok(tracked.metrics.roc_auc > 0.7, `AUC ${tracked.metrics.roc_auc}`);
  assert.equal(tracked.metricHistory.train_loss.length, 20, 'one train_loss point per boosting round');
  assert.deepEqual(
    tracked.artifacts.map((a: { path: string }) => a.path),
    [`model/${model}.onnx`, 'reference/sample.json'],
  );
  const experiments = (await (await fetch(`${base}/experiments`, authorized())).json()) as {
    experiments: Array<{ experimentId: string; name: string }>;
  };
  assert.equal(experiments.experiments.find((e) => e.name === model)?.experimentId, tracked.experimentId);
});

test('a successive-halving search: each trial is a child run, the worst stop early, the best params make the model', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const request = trainingRequest(model, {
    params: { iterations: 15, seed: 3 },
    search: {
      strategy: 'successive_halving',
      space: { max_depth: { values: [1, 2, 3] }, learning_rate: { values: [0.01, 0.1, 0.3] } },
      maxTrials: 9,
      metric: 'roc_auc',
    },
  });
  await publishRequested(request);
  const snapshotId = await waitingRun(request.trainingRunId);
  await publishCreated(await snapshotCreated(request, snapshotId, churnRows(500, 13)));
  const ended = await endedRun(request.trainingRunId);
  assert.equal(ended.status, 'succeeded', JSON.stringify(ended.failure));

  const tracked = await trackedRun(request.trainingRunId);
  assert.equal(tracked.trials.length, 9);
  const states = tracked.trials.map((t: { tags: Record<string, string> }) => t.tags['mlops.trial.state']);
  assert.equal(states.filter((s: string) => s === 'pruned').length, 8);
  const best = tracked.trials.filter((t: { tags: Record<string, string> }) => t.tags['mlops.trial.best'] === 'true');
  assert.equal(best.length, 1);
  assert.equal(tracked.tags['mlops.search.best_trial_run_id'], best[0].runId);
  // The best trial reached the last rung: three validation scores, on growing budgets.
  const bestRun: any = await (await fetch(`${base}/runs/${best[0].runId}`, authorized())).json();
  assert.deepEqual(
    bestRun.metricHistory.budget.map((p: { value: number }) => p.value),
    [1 / 9, 1 / 3, 1],
  );
  const [event] = await trainedEvents(model, request.trainingRunId);
  assert.equal(event.params.maxDepth, Number(best[0].params.max_depth));
  assert.equal(event.params.learningRate, Number(best[0].params.learning_rate));
  assert.equal(ended.result.search.trials.length, 9);
});

test('sliceBy puts holdout metrics per plan and the largest gaps into model.trained', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const request = trainingRequest(model, { sliceBy: ['plan'] });
  await publishRequested(request);
  const snapshotId = await waitingRun(request.trainingRunId);
  await publishCreated(await snapshotCreated(request, snapshotId, churnRows(600, 21)));
  assert.equal((await endedRun(request.trainingRunId)).status, 'succeeded');
  const [event] = await trainedEvents(model, request.trainingRunId);
  const plan = event.slices.plan;
  assert.deepEqual(plan.values.map((s: { value: string }) => s.value).sort(), ['basic', 'enterprise', 'premium']);
  assert.equal(
    plan.values.reduce((sum: number, s: { rows: number }) => sum + s.rows, 0),
    event.lineage.rows.holdout,
  );
  // basic churns far more often: the model predicts it positive far more often.
  assert.equal(plan.gaps.positive_rate.highest, 'basic');
  assert.equal(event.metrics.max_slice_gap_positive_rate, plan.gaps.positive_rate.gap);
  assert.ok(plan.gaps.positive_rate.gap > 0.3, `gap ${plan.gaps.positive_rate.gap}`);
});

test('the reference sample is in the artifact store, named by uri and sha256 in a small model.trained', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const request = trainingRequest(model);
  await publishRequested(request);
  const snapshotId = await waitingRun(request.trainingRunId);
  await publishCreated(await snapshotCreated(request, snapshotId, churnRows(600, 31)));
  assert.equal((await endedRun(request.trainingRunId)).status, 'succeeded');
  const [event] = await trainedEvents(model, request.trainingRunId);
  const bytes = await store.get(event.referenceSample.uri);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), event.referenceSample.sha256);
  assert.equal(bytes.length, event.referenceSample.sizeBytes);
  const sample = JSON.parse(bytes.toString('utf8'));
  assert.equal(sample.sampleRows, 480, 'every training row when there are fewer than the sample size');
  assert.equal(event.referenceSample.rows, 480);
  assert.deepEqual(Object.keys(sample.numeric).sort(), ['monthly_spend', 'tenure_days']);
  assert.equal(sample.numeric.monthly_spend.length + sample.missing.monthly_spend, 480);
  assert.ok(sample.missing.monthly_spend > 0);
  assert.equal(sample.prediction.length, 120, 'the holdout predictions');
  assert.ok(JSON.stringify(event).length < 16_000, `model.trained is ${JSON.stringify(event).length} bytes`);
});

test('the progress of a run shows as a gauge while it trains, and its series ends with the run', async () => {
  const request = trainingRequest(`churn-${randomUUID().slice(0, 8)}`, {
    params: { iterations: 300, early_stopping: false, max_leaves: 63, min_samples_leaf: 1, seed: 2 },
  });
  await publishRequested(request);
  await publishCreated(await snapshotCreated(request, await waitingRun(request.trainingRunId), churnRows(15_000, 43)));
  const series = new RegExp(
    `trainer_training_progress\\{[^}]*training_run_id="${request.trainingRunId}"[^}]*\\} ([0-9.e-]+)`,
  );
  const seen = await eventually(async () => {
    const text = await (await fetch(`${base}/metrics`, authorized())).text();
    const value = Number(series.exec(text)?.[1] ?? Number.NaN);
    return value > 0 && value < 1 ? value : undefined;
  }, 'the progress gauge of the run');
  assert.ok(seen > 0 && seen < 1);
  assert.equal((await endedRun(request.trainingRunId)).status, 'succeeded');
  const after = await (await fetch(`${base}/metrics`, authorized())).text();
  assert.equal(series.test(after), false, 'the series of an ended run is removed');
  assert.match(after, /trainer_trainings_finished_total\{[^}]*status="succeeded"/);
});

test("a failed run's tracked run is FAILED with the error code", async () => {
  const request = trainingRequest(`churn-${randomUUID().slice(0, 8)}`);
  await publishRequested(request);
  const snapshotId = await waitingRun(request.trainingRunId);
  await publishCreated(await snapshotCreated(request, snapshotId, churnRows(5, 12)));
  assert.equal((await endedRun(request.trainingRunId)).status, 'failed');
  const tracked = await trackedRun(request.trainingRunId);
  assert.equal(tracked.status, 'FAILED');
  assert.equal(tracked.tags['mlops.error_code'], 'insufficient_rows');
});

test('a snapshot whose bytes do not match its sha256 fails the run with snapshot_hash_mismatch', async () => {
  const request = trainingRequest(`churn-${randomUUID().slice(0, 8)}`);
  await publishRequested(request);
  const snapshotId = await waitingRun(request.trainingRunId);
  const created = await snapshotCreated(request, snapshotId, churnRows(200, 7));
  // Corrupt the stored file in place: same address, other bytes.
  await writeFile(join(artifactDir, ...digestKey(created.sha256).split('/')), encodeRows(churnRows(200, 8)));
  await publishCreated(created);

  const run = await endedRun(request.trainingRunId);
  assert.equal(run.status, 'failed');
  assert.equal(run.failure.errorCode, 'snapshot_hash_mismatch');
  assert.equal(run.failure.stage, 'snapshot');
  const failed = await readTopic(
    testKafka('trainer-test-reader'),
    EventTypes.TrainingFailedV1,
    (message) => JSON.parse(message.value?.toString() ?? '{}').trainingRunId === request.trainingRunId,
    (matched) => matched.length >= 1,
  );
  assert.equal(JSON.parse(failed[0]?.value?.toString() ?? '{}').errorCode, 'snapshot_hash_mismatch');
});

test('a snapshot with one class only fails the run with a cause a person can act on', async () => {
  const request = trainingRequest(`churn-${randomUUID().slice(0, 8)}`);
  await publishRequested(request);
  const snapshotId = await waitingRun(request.trainingRunId);
  await publishCreated(
    await snapshotCreated(
      request,
      snapshotId,
      churnRows(100, 9).map((row) => ({ ...row, churned: false })),
    ),
  );
  const run = await endedRun(request.trainingRunId);
  assert.equal(run.failure.errorCode, 'one_class');
  assert.match(run.failure.message, /needs both classes/);
});

test('a request and its snapshot delivered twice train once', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const request = trainingRequest(model);
  // The same request twice, as two events (a requester that retried): one run, one snapshot request.
  await publishRequested(request);
  await publishRequested({ ...request, requestedAt: new Date().toISOString() });
  const snapshotId = await waitingRun(request.trainingRunId);
  const created = await snapshotCreated(request, snapshotId, churnRows(300, 11));
  const before = app.get(TrainOnSnapshotService).trainings;
  await publishCreated(created);
  await publishCreated(created);
  assert.equal((await endedRun(request.trainingRunId)).status, 'succeeded');
  // And once more after the run ended (a redrive, or feature-store answering the request again).
  await publishCreated(created);

  // The marker: a later run of the same model, whose model.trained shares the key and so the partition.
  const marker = trainingRequest(model);
  await publishRequested(marker);
  await publishCreated(await snapshotCreated(marker, await waitingRun(marker.trainingRunId), churnRows(300, 12)));
  const events = await trainedEvents(model, marker.trainingRunId);
  assert.equal(events.filter((event) => event.trainingRunId === request.trainingRunId).length, 1);
  assert.equal(app.get(TrainOnSnapshotService).trainings - before, 2);
});

test('the same snapshot, params and seed give a byte-identical ONNX file', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const rows = churnRows(300, 21);
  const digests: string[] = [];
  for (let i = 0; i < 2; i++) {
    const request = trainingRequest(model, {
      algorithm: 'random_forest',
      params: { trees: 10, seed: 5, split: 'stratified' },
    });
    await publishRequested(request);
    await publishCreated(await snapshotCreated(request, await waitingRun(request.trainingRunId), rows));
    const run = await endedRun(request.trainingRunId);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.failure));
    digests.push(run.result.artifact.sha256 as string);
  }
  assert.equal(digests[0], digests[1]);
});

/** Puts a run in 'training' as a trainer that stopped would have left it: held by nobody alive, its lease lapsed. */
async function leftByAStoppedTrainer(
  request: TrainingRequestedV1,
  rows: readonly SnapshotRow[],
  attempt: number,
): Promise<void> {
  await publishRequested(request);
  const created = await snapshotCreated(request, await waitingRun(request.trainingRunId), rows);
  const runs = app.get(RunStore);
  await runs.dataSource.transaction(async (manager) => {
    await runs.markTraining(manager, request.trainingRunId, created, new Date());
    await manager.query(
      `UPDATE trainer.training_runs SET lease_owner = 'trainer-gone', lease_until = now() - interval '1 second', attempt = $2 WHERE id = $1`,
      [request.trainingRunId, attempt],
    );
  });
}

test('a run a stopped trainer left in training is resumed once its lease lapses', async () => {
  const request = trainingRequest(`churn-${randomUUID().slice(0, 8)}`);
  await leftByAStoppedTrainer(request, churnRows(200, 31), 1);
  const run = await endedRun(request.trainingRunId);
  assert.equal(run.status, 'succeeded', JSON.stringify(run.failure));
  assert.equal(run.attempt, 2);
});

test('a run interrupted more often than TRAINING_MAX_ATTEMPTS fails with training_interrupted', async () => {
  const request = trainingRequest(`churn-${randomUUID().slice(0, 8)}`);
  await leftByAStoppedTrainer(request, churnRows(200, 32), config.TRAINING_MAX_ATTEMPTS);
  const run = await endedRun(request.trainingRunId);
  assert.equal(run.status, 'failed');
  assert.equal(run.failure.errorCode, 'training_interrupted');
});

test('the service answers /health/ready while it trains', async () => {
  const request = trainingRequest(`churn-${randomUUID().slice(0, 8)}`, {
    params: { iterations: 400, early_stopping: false, max_leaves: 63, min_samples_leaf: 1, seed: 1 },
  });
  await publishRequested(request);
  await publishCreated(await snapshotCreated(request, await waitingRun(request.trainingRunId), churnRows(30_000, 41)));
  await eventually(async () => {
    const run = await getRun(request.trainingRunId);
    return run.body.status === 'training' && run.body.progress > 0 ? true : undefined;
  }, 'training to be under way');
  const started = Date.now();
  const ready = await fetch(`${base}/health/ready`);
  const latencyMs = Date.now() - started;
  assert.equal(ready.status, 200);
  assert.ok(latencyMs < 1_000, `readiness answered in ${latencyMs} ms`);
  assert.equal((await getRun(request.trainingRunId)).body.status, 'training');
  assert.equal((await endedRun(request.trainingRunId)).status, 'succeeded');
});

// Champion/challenger: the trainer keeps the version each alias points at (mlops.model.promoted.v1) and scores the
// production version on every new candidate's holdout. (In this file: one trainer per Postgres schema, or the
// trainers of two files would claim each other's runs.)

/** The trainer's run of a request trained on these rows: the run as GET would show it, and its model.trained event. */
async function trainOn(model: string, rows: readonly SnapshotRow[]): Promise<{ run: any; event: ModelTrainedV1 }> {
  const request = trainingRequest(model);
  await producer.publish(
    newEvent(EventTypes.TrainingRequestedV1, request, { source: TEST_SOURCE, subject: request.trainingRunId }),
  );
  const snapshotId = await eventually(async () => {
    const res = await storedRun(request.trainingRunId);
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
      const body = await storedRun(request.trainingRunId);
      return body?.status === 'succeeded' || body?.status === 'failed' ? body : undefined;
    },
    `run ${request.trainingRunId} to end`,
    60_000,
  );
  assert.equal(run.status, 'succeeded', JSON.stringify(run.failure));
  const messages = await readTopic(
    testKafka('trainer-test-reader'),
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

async function storedRun(id: string): Promise<any> {
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
    promotedBy: 'trainer-test',
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
    const champions = app.get(ChampionStore);
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
  const first = await trainOn(model, churnRows(600, 1));
  assert.equal(first.event.champion, undefined, 'no version was promoted before the first run');
  await promote(first.event, 1);

  const rows = churnRows(600, 5);
  const second = await trainOn(model, rows);
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
  const first = await trainOn(model, churnRows(600, 1));
  const second = await trainOn(model, churnRows(600, 2));
  const at = Date.now();
  await promote(first.event, 1, {}, new Date(at - 2_000));
  await promote(second.event, 2, { previousVersion: 1 }, new Date(at - 1_000));
  await promote(first.event, 1, { previousVersion: 2, trigger: 'rollback' }, new Date(at));

  const third = await trainOn(model, churnRows(600, 3));
  assert.equal(third.event.champion?.version, 1);
  assert.ok(third.event.champion?.metrics);
});

test('a champion whose artifact is missing is skipped with the reason; the run still succeeds', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const first = await trainOn(model, churnRows(600, 1));
  const absent = 'f'.repeat(64);
  await promote(first.event, 1, {
    artifact: {
      ...first.event.artifact,
      sha256: absent,
      uri: first.event.artifact.uri.replace(/[a-f0-9]{64}$/, absent),
    },
  });

  const second = await trainOn(model, churnRows(600, 5));
  assert.equal(second.event.champion?.version, 1);
  assert.equal(second.event.champion?.metrics, undefined);
  assert.match(second.event.champion?.skipped ?? '', /not in the artifact store/);
});

test('a champion whose artifact is corrupt is skipped with the reason; the run still succeeds', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const first = await trainOn(model, churnRows(600, 1));
  await promote(first.event, 1);
  // Same address, other bytes: the sha256 no longer matches.
  await writeFile(join(artifactDir, ...digestKey(first.event.artifact.sha256).split('/')), Buffer.from('not onnx'));

  const second = await trainOn(model, churnRows(600, 5));
  assert.equal(second.event.champion?.metrics, undefined);
  assert.match(second.event.champion?.skipped ?? '', /is corrupt/);
});

test('a champion whose signature names a feature the snapshot lacks is skipped with the reason', async () => {
  const model = `churn-${randomUUID().slice(0, 8)}`;
  const first = await trainOn(model, churnRows(600, 1));
  // A champion of one float input over two features, one of which this snapshot does not have.
  const { inputs: _inputs, outputs: _outputs, ...signature } = first.event.signature;
  await promote(first.event, 1, { signature: { ...signature, featureNames: ['tenure_days', 'income'] } });

  const second = await trainOn(model, churnRows(600, 5));
  assert.equal(second.event.champion?.metrics, undefined);
  assert.match(second.event.champion?.skipped ?? '', /lacks the feature\(s\) income/);
});
