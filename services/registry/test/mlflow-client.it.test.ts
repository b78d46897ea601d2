// The real `mlflow` Python client (mlflow-skinny, the trainer's cached virtualenv) against the registry in-process
// (HTTP only, see mlflow-support): MlflowClient(registry_uri=<registry>) reads models and versions, tags models, sets
// aliases through our promotion, and fetches the ONNX file from the download URI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { createTokenWithRoles } from '@mlops/auth';
import { TEST_ADMIN_TOKEN, authorized, cachedVenv } from '@mlops/testing';
import { httpOnlyRegistryApp, mlflowModelName, registerTrained, smallOnnx, uploadOnnx } from './mlflow-support';
import { testConfig, trainedEvent } from './support';

const MLFLOW = 'mlflow-skinny==3.17.2';
const SCRIPT = join(__dirname, '..', '..', 'test', 'python', 'mlflow_registry_client.py');

let app: INestApplication;
let artifactDir: string;
let base: string;
let python: string;

after(async () => {
  await app?.close();
  await rm(artifactDir, { recursive: true, force: true });
});

interface ClientView {
  name: string;
  aliases: Record<string, string>;
  latest_stages: Array<[string, string]>;
  first_page: string[];
  second_page: string[];
  second_token: string | null;
  exact: string[];
  latest_production: string[];
  tags_after_set: Record<string, string>;
  tags_after_delete: Record<string, string>;
  staged: [string, string, string[]];
  bad_alias_error: string | null;
  delete_alias_error: string | null;
  version: { run_id: string; source: string; status: string; stage: string; aliases: string[] };
  by_name: string[];
  by_run: Array<[string, string]>;
  download_uri: string;
  download_status: number;
  download_sha256: string;
  reader_read: string;
  reader_alias_error: string | null;
  missing_model_error: string | null;
  create_model_error: string | null;
  create_version_error: string | null;
  transition_error: string | null;
  rename_error: string | null;
}

let view: ClientView;
let trained: string;
let uploaded: string;
let sha256: string;
let runId: string;

before(async () => {
  const setup = await testConfig();
  artifactDir = setup.artifactDir;
  ({ app, base } = await httpOnlyRegistryApp(setup.config));
  python = await cachedVenv('mlflow', [MLFLOW], "__import__('mlflow').__version__ == '3.17.2'");
  const prefix = mlflowModelName('client');
  trained = `${prefix}-a`;
  uploaded = `${prefix}-b`;
  const bad = `${prefix}-c`;
  const v1 = trainedEvent(trained, { auc: 0.8 });
  runId = v1.trainingRunId;
  await registerTrained(app, v1);
  await registerTrained(app, trainedEvent(trained, { auc: 0.7 }));
  sha256 = await uploadOnnx(base, uploaded, smallOnnx());
  await registerTrained(app, trainedEvent(bad, { auc: 0.4 })); // below the default floor: not promoted
  const marked = await fetch(
    `${base}/models/${bad}/versions/1/bad`,
    authorized({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reason":"leaks labels"}' }),
  );
  assert.equal(marked.status, 200);
  const { stdout } = await promisify(execFile)(python, [SCRIPT], {
    timeout: 120_000,
    env: {
      ...process.env,
      REGISTRY_URI: base,
      TRACKING_URI: 'http://127.0.0.1:9',
      MLFLOW_TRACKING_TOKEN: TEST_ADMIN_TOKEN,
      READER_TOKEN: await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'reader'),
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
      TRAINED: trained,
      UPLOADED: uploaded,
      BAD: bad,
      PREFIX: prefix,
    },
  });
  view = JSON.parse(stdout.trim().split('\n').at(-1) as string) as ClientView;
});

test('get_registered_model: aliases as a dict, latest versions with stages read from our aliases', () => {
  assert.equal(view.name, trained);
  assert.deepEqual(view.aliases, { production: '1' });
  assert.deepEqual(view.latest_stages, [
    ['1', 'Production'],
    ['2', 'Archived'],
  ]);
  assert.deepEqual(view.latest_production, ['1']);
});

test('search_registered_models: LIKE paged by max_results and page_token, and name =', () => {
  assert.deepEqual(view.first_page, [trained, uploaded]);
  assert.deepEqual(view.second_page, [trained.replace(/-a$/, '-c')]);
  assert.ok(!view.second_token, 'no token after the last page');
  assert.deepEqual(view.exact, [uploaded]);
});

test('set_registered_model_tag / delete_registered_model_tag change our model', () => {
  assert.deepEqual(view.tags_after_set, { team: 'risk' });
  assert.deepEqual(view.tags_after_delete, {});
});

test('set_registered_model_alias promotes; a version marked bad is refused with INVALID_STATE; delete is FEATURE_DISABLED', async () => {
  assert.deepEqual(view.staged, ['2', 'Staging', ['staging']]);
  assert.equal(view.bad_alias_error, 'INVALID_STATE');
  assert.equal(view.delete_alias_error, 'FEATURE_DISABLED');
  const history = await fetch(`${base}/models/${trained}/aliases/staging/history`, authorized());
  assert.deepEqual(
    ((await history.json()) as Array<{ version: number; trigger: string }>).map((m) => [m.version, m.trigger]),
    [[2, 'manual']],
  );
});

test("get_model_version and search_model_versions by name and by the trainer's MLflow run id", () => {
  assert.deepEqual(view.version, {
    run_id: runId.replace(/-/g, ''),
    source: view.version.source,
    status: 'READY',
    stage: 'Production',
    aliases: ['production'],
  });
  assert.match(view.version.source, /^file:\/\//);
  assert.deepEqual(view.by_name, ['2', '1']);
  assert.deepEqual(view.by_run, [[trained, '1']]);
});

test('get_model_version_download_uri gives our artifact download; the ONNX bytes come back intact', () => {
  assert.equal(view.download_uri, `${base}/models/${uploaded}/versions/1/artifact`);
  assert.equal(view.download_status, 200);
  assert.equal(view.download_sha256, sha256);
});

test('MLflow error codes reach the client: a missing model, and creating models or versions here', () => {
  assert.equal(view.missing_model_error, 'RESOURCE_DOES_NOT_EXIST');
  assert.equal(view.create_model_error, 'FEATURE_DISABLED');
  assert.equal(view.create_version_error, 'FEATURE_DISABLED');
});

test('a stage transition raises FEATURE_DISABLED, a call we do not serve (rename) ENDPOINT_NOT_FOUND', () => {
  assert.equal(view.transition_error, 'FEATURE_DISABLED');
  assert.equal(view.rename_error, 'ENDPOINT_NOT_FOUND');
});

test('with a reader token the client reads, and setting an alias raises PERMISSION_DENIED', () => {
  assert.equal(view.reader_read, trained);
  assert.equal(view.reader_alias_error, 'PERMISSION_DENIED');
});
