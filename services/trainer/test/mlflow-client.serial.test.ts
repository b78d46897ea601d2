// Serial: its trainer shares the trainer Postgres schema with trainer.it's and would claim that file's runs (and miss
// their snapshots, written to another artifact directory) if both ran at once.
// The real `mlflow` Python client (mlflow-skinny, in a cached virtualenv) against the trainer in-process: what a
// team's own training code logs must round-trip through our MLflow endpoints and show in our own HTTP API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { createTokenWithRoles } from '@mlops/auth';
import { TEST_ADMIN_TOKEN, authorized, cachedVenv, uid } from '@mlops/testing';
import { createTrainerApp } from '../src/app';
import { testConfig } from './support';

const MLFLOW = 'mlflow-skinny==3.17.2';
const SCRIPT = join(__dirname, '..', '..', 'test', 'python', 'mlflow_round_trip.py');

let app: INestApplication;
let artifactDir: string;
let base: string;
let python: string;

before(async () => {
  const setup = await testConfig();
  artifactDir = setup.artifactDir;
  app = await createTrainerApp(setup.config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  python = await cachedVenv('mlflow', [MLFLOW], "__import__('mlflow').__version__ == '3.17.2'");
});

after(async () => {
  await app?.close();
  await rm(artifactDir, { recursive: true, force: true });
});

interface RoundTrip {
  experiment_id: string;
  same_experiment: boolean;
  run_id: string;
  child_id: string;
  other_id: string;
  artifact_uri: string;
  status: string;
  end_time: number | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  history: Array<[number, number]>;
  found: string[];
  ordered: string[];
  downloaded: string;
  listed: Array<[string, boolean]>;
  changed_param_error: string | null;
  experiments: string[];
  missing_experiment: boolean;
  inputs: Array<[string, string, string, string | null, Record<string, string>]>;
}

async function roundTrip(experiment: string): Promise<RoundTrip> {
  const { stdout } = await promisify(execFile)(python, [SCRIPT], {
    timeout: 120_000,
    env: {
      ...process.env,
      TRACKING_URI: base,
      MLFLOW_TRACKING_TOKEN: TEST_ADMIN_TOKEN,
      EXPERIMENT: experiment,
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as RoundTrip;
}

let result: RoundTrip;
let experimentName: string;

test('the mlflow client logs a run (params, metrics by step, tags, artifacts, dataset inputs, a nested run) and reads it back', async () => {
  experimentName = uid('mlflow-client');
  result = await roundTrip(experimentName);
  assert.equal(result.same_experiment, true, 'set_experiment twice gives the same experiment');
  assert.equal(result.status, 'FINISHED');
  assert.ok(result.end_time !== null && result.end_time > 0);
  assert.deepEqual(result.params, { max_depth: '5', learning_rate: '0.1', algorithm: 'gbdt' });
  assert.deepEqual(result.metrics, { loss: 1 / 3, auc: 0.91, f1: 0.8 });
  assert.equal(result.tags.team, 'risk');
  assert.equal(result.tags['mlflow.runName'], 'client-run');
  assert.deepEqual(result.history, [
    [0, 1],
    [1, 0.5],
    [2, 1 / 3],
  ]);
  assert.equal(result.artifact_uri, `mlflow-artifacts:/${result.experiment_id}/${result.run_id}/artifacts`);
  assert.equal(result.downloaded, 'hello artifacts');
  assert.deepEqual(result.listed, [
    ['docs', true],
    ['notes.txt', false],
  ]);
});

test('search_runs applies the filter (metrics, params, tags joined by AND) and order_by', () => {
  assert.deepEqual(result.found, [result.run_id]);
  assert.deepEqual(result.ordered, ['other-run', 'client-run', 'trial-1']);
});

test('a param logged again with another value is refused with INVALID_PARAMETER_VALUE; a missing experiment is None', () => {
  assert.equal(result.changed_param_error, 'INVALID_PARAMETER_VALUE');
  assert.equal(result.missing_experiment, true);
  assert.deepEqual(result.inputs, [
    ['churn-train', 'abc123', 'http', null, { 'mlflow.data.context': 'training' }],
    ['churn-eval', 'def456', 'http', '{"c": 1}', { 'mlflow.data.context': 'eval' }],
  ]);
  assert.deepEqual(result.experiments, [experimentName]);
});

test('what the client logged shows in our own HTTP API: the run, its trial and its metric history', async () => {
  const res = await fetch(`${base}/runs/${result.run_id}`, authorized());
  assert.equal(res.status, 200);
  const run = (await res.json()) as {
    params: Record<string, string>;
    metrics: Record<string, number>;
    metricHistory: Record<string, Array<{ step: number; value: number }>>;
    artifacts: Array<{ path: string; sizeBytes: number; sha256: string }>;
    trials: Array<{ runId: string; runName: string }>;
    datasets: Array<{ name: string; digest: string; context: string | null }>;
  };
  assert.equal(run.params.max_depth, '5');
  assert.deepEqual(
    run.datasets.map((d) => [d.name, d.digest, d.context]),
    [
      ['churn-train', 'abc123', 'training'],
      ['churn-eval', 'def456', 'eval'],
    ],
  );
  assert.equal(run.metrics.auc, 0.91);
  assert.deepEqual(
    run.metricHistory.loss?.map((p) => p.step),
    [0, 1, 2],
  );
  assert.deepEqual(
    run.artifacts.map((a) => [a.path, a.sizeBytes]),
    [
      ['docs/notes.txt', 15],
      ['notes.txt', 15],
    ],
  );
  assert.deepEqual(
    run.trials.map((t) => [t.runId, t.runName]),
    [[result.child_id, 'trial-1']],
  );
  const listed = await fetch(
    `${base}/experiments/${result.experiment_id}/runs?filter=${encodeURIComponent('metrics.auc < 0.6')}`,
    authorized(),
  );
  assert.deepEqual(
    ((await listed.json()) as { runs: Array<{ runId: string }> }).runs.map((r) => r.runId),
    [result.child_id],
  );
});

test("MLflow's error JSON: an unknown run is 404 RESOURCE_DOES_NOT_EXIST, a bad filter 400 INVALID_PARAMETER_VALUE", async () => {
  const missing = await fetch(`${base}/api/2.0/mlflow/runs/get?run_id=${'0'.repeat(32)}`, authorized());
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error_code: string }).error_code, 'RESOURCE_DOES_NOT_EXIST');
  const badFilter = await fetch(
    `${base}/ajax-api/2.0/mlflow/runs/search`,
    authorized({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ experiment_ids: ['0'], filter: 'metrics.auc >' }),
    }),
  );
  assert.equal(badFilter.status, 400);
  assert.equal(((await badFilter.json()) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
});

test('MLflow endpoints need our tokens: a reader may search runs but not start one', async () => {
  const reader = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'reader');
  const asReader = (path: string, body: unknown) =>
    fetch(`${base}/api/2.0/mlflow/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  assert.equal((await asReader('runs/search', { experiment_ids: ['0'] })).status, 200);
  assert.equal((await asReader('runs/create', { experiment_id: '0' })).status, 403);
  const anonymous = await fetch(`${base}/api/2.0/mlflow/experiments/get-by-name?experiment_name=x`);
  assert.equal(anonymous.status, 401);
});

test("runs/log-inputs: bad input is a 400 or 404 in MLflow's error JSON and changes nothing; a reader is 403; it is in the OpenAPI document", async () => {
  /** A POST of `body` with the given bearer token (the admin's by default; null for none). */
  const logInputs = (body: unknown, token: string | null = TEST_ADMIN_TOKEN) => {
    const init: RequestInit = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    };
    return fetch(`${base}/api/2.0/mlflow/runs/log-inputs`, token === null ? init : authorized(init, token));
  };
  const dataset = { name: 'd', digest: 'x1', source_type: 'http', source: '{}' };
  const cases: Array<[string, unknown, number, string]> = [
    ['no run_id', { datasets: [{ dataset }] }, 400, 'INVALID_PARAMETER_VALUE'],
    [
      'a dataset without its digest',
      { run_id: result.run_id, datasets: [{ dataset: { ...dataset, digest: undefined } }] },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'an unknown field',
      { run_id: result.run_id, datasets: [{ dataset: { ...dataset, rows: 3 } }] },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'an empty name',
      { run_id: result.run_id, datasets: [{ dataset: { ...dataset, name: '' } }] },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a digest over 36 characters',
      { run_id: result.run_id, datasets: [{ dataset: { ...dataset, digest: 'f'.repeat(37) } }] },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['an unknown run', { run_id: '0'.repeat(32), datasets: [{ dataset }] }, 404, 'RESOURCE_DOES_NOT_EXIST'],
  ];
  for (const [what, body, status, code] of cases) {
    const res = await logInputs(body);
    assert.equal(res.status, status, what);
    assert.equal(((await res.json()) as { error_code?: string }).error_code, code, what);
  }
  // Malformed JSON is refused before the MLflow layer, with the platform's error body (no MLflow error_code).
  const malformed = await logInputs('{"run_id": ');
  assert.equal(malformed.status, 400);
  assert.match(JSON.stringify(await malformed.json()), /JSON/i);
  const reader = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'reader');
  const asReader = await logInputs({ run_id: result.run_id, datasets: [{ dataset }] }, reader);
  assert.equal(asReader.status, 403);
  assert.equal((await logInputs({ run_id: result.run_id, datasets: [{ dataset }] }, null)).status, 401);

  // The service answers on, and the run's inputs are the two the client logged.
  assert.equal((await fetch(`${base}/health/live`)).status, 200);
  const run = (await (await fetch(`${base}/runs/${result.run_id}`, authorized())).json()) as {
    datasets: Array<{ name: string }>;
  };
  assert.deepEqual(
    run.datasets.map((d) => d.name),
    ['churn-train', 'churn-eval'],
  );
  const document = (await (await fetch(`${base}/openapi.json`, authorized())).json()) as {
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  };
  const operation = document.paths['/api/2.0/mlflow/runs/log-inputs']?.post;
  assert.ok(operation, 'runs/log-inputs in the OpenAPI document');
  assert.ok(
    ['200', '400', '404'].every((code) => code in operation.responses),
    JSON.stringify(operation.responses),
  );
});

test('GET /runs/compare puts runs side by side with the union of their params and metrics', async () => {
  const res = await fetch(`${base}/runs/compare?ids=${result.run_id},${result.other_id}`, authorized());
  assert.equal(res.status, 200);
  const compared = (await res.json()) as {
    runs: Array<{ runId: string; metrics: Record<string, number>; params: Record<string, string> }>;
    params: string[];
    metrics: string[];
  };
  assert.deepEqual(
    compared.runs.map((r) => [r.runId, r.metrics.auc, r.params.max_depth]),
    [
      [result.run_id, 0.91, '5'],
      [result.other_id, 0.95, '3'],
    ],
  );
  assert.deepEqual(compared.params, ['algorithm', 'learning_rate', 'max_depth']);
  assert.deepEqual(compared.metrics, ['auc', 'f1', 'loss']);
});
