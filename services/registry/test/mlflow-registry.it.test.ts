// MLflow's Model Registry REST API over the registry, in-process against the real Postgres (the app serves HTTP
// only: see mlflow-support). The JSON shapes MLflow clients parse, the errors they read, and the roles.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { createTokenWithRoles } from '@mlops/auth';
import { TEST_ADMIN_TOKEN, authorized } from '@mlops/testing';
import { httpOnlyRegistryApp, mlflowModelName, registerTrained, smallOnnx, uploadOnnx } from './mlflow-support';
import { testConfig, trainedEvent } from './support';

let app: INestApplication;
let artifactDir: string;
let base: string;

before(async () => {
  const setup = await testConfig();
  artifactDir = setup.artifactDir;
  ({ app, base } = await httpOnlyRegistryApp(setup.config));
});

after(async () => {
  await app?.close();
  await rm(artifactDir, { recursive: true, force: true });
});

async function mlflow(
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
  path: string,
  body: Record<string, unknown> = {},
  token = TEST_ADMIN_TOKEN,
  prefix = '/api/2.0/mlflow/',
): Promise<{ status: number; body: any }> {
  const url = new URL(`${base}${prefix}${path}`);
  const init: RequestInit = { method };
  if (method === 'GET') {
    for (const [key, value] of Object.entries(body)) {
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
    }
  } else {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(url, authorized(init, token));
  return { status: res.status, body: await res.json() };
}

/** A model with v1 (auc 0.8, promoted to production by the gate) and v2 (auc 0.7, rejected by the gate). */
async function trainedModel(what: string): Promise<{ model: string; runIds: string[] }> {
  const model = mlflowModelName(what);
  const v1 = trainedEvent(model, { auc: 0.8 });
  const v2 = trainedEvent(model, { auc: 0.7 });
  await registerTrained(app, v1);
  await registerTrained(app, v2);
  return { model, runIds: [v1.trainingRunId, v2.trainingRunId] };
}

test('registered-models/get: the model with its aliases, tags and latest version per stage (from aliases)', async () => {
  const { model, runIds } = await trainedModel('get');
  const res = await mlflow('GET', 'registered-models/get', { name: model });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const rm = res.body.registered_model;
  assert.equal(rm.name, model);
  assert.equal(typeof rm.creation_timestamp, 'number');
  assert.deepEqual(rm.aliases, [{ alias: 'production', version: '1' }]);
  assert.deepEqual(
    rm.latest_versions.map((v: any) => [v.version, v.current_stage]),
    [
      ['2', 'Archived'],
      ['1', 'Production'],
    ],
  );
  const v1 = rm.latest_versions[1];
  assert.equal(v1.run_id, (runIds[0] as string).replace(/-/g, ''));
  assert.equal(v1.status, 'READY');
  assert.deepEqual(v1.aliases, ['production']);
  assert.match(v1.source, /^file:\/\//);
  assert.ok(v1.tags.some((t: any) => t.key === 'mlops.status' && t.value === 'promoted'));
});

test('an unknown model is 404 RESOURCE_DOES_NOT_EXIST, under /ajax-api too', async () => {
  const res = await mlflow(
    'GET',
    'registered-models/get',
    { name: 'no-such-model' },
    TEST_ADMIN_TOKEN,
    '/ajax-api/2.0/mlflow/',
  );
  assert.equal(res.status, 404);
  assert.equal(res.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
  assert.match(res.body.message, /no-such-model/);
});

test('registered-models/search: name = and LIKE with the prompt clause the client adds, paged by max_results', async () => {
  const prefix = mlflowModelName('search');
  for (const suffix of ['a', 'b', 'c']) await registerTrained(app, trainedEvent(`${prefix}-${suffix}`, { auc: 0.8 }));
  const prompt = "tag.`mlflow.prompt.is_prompt` != 'true'";
  const exact = await mlflow('GET', 'registered-models/search', { filter: `name = '${prefix}-b' AND ${prompt}` });
  assert.equal(exact.status, 200, JSON.stringify(exact.body));
  assert.deepEqual(
    exact.body.registered_models.map((m: any) => m.name),
    [`${prefix}-b`],
  );
  const first = await mlflow('GET', 'registered-models/search', { filter: `name LIKE '${prefix}-%'`, max_results: 2 });
  assert.deepEqual(
    first.body.registered_models.map((m: any) => m.name),
    [`${prefix}-a`, `${prefix}-b`],
  );
  assert.equal(typeof first.body.next_page_token, 'string');
  const second = await mlflow('GET', 'registered-models/search', {
    filter: `name LIKE '${prefix}-%'`,
    max_results: 2,
    page_token: first.body.next_page_token,
  });
  assert.deepEqual(
    second.body.registered_models.map((m: any) => m.name),
    [`${prefix}-c`],
  );
  assert.equal(second.body.next_page_token, undefined);
});

test('a filter MLflow cannot mean here is 400 INVALID_PARAMETER_VALUE; so is an unknown request field', async () => {
  const bad = await mlflow('GET', 'registered-models/search', { filter: 'name >' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
  const unknownKey = await mlflow('GET', 'model-versions/search', { filter: "params.x = '1'" });
  assert.equal(unknownKey.body.error_code, 'INVALID_PARAMETER_VALUE');
  const extra = await mlflow('POST', 'registered-models/alias', { name: 'x', alias: 'a', version: '1', extra: 1 });
  assert.equal(extra.status, 400);
  assert.equal(extra.body.error_code, 'INVALID_PARAMETER_VALUE');
});

test('get-latest-versions by stage: Production is the production alias, Archived a rejected version', async () => {
  const { model } = await trainedModel('latest');
  const production = await mlflow('POST', 'registered-models/get-latest-versions', {
    name: model,
    stages: ['Production'],
  });
  assert.equal(production.status, 200);
  assert.deepEqual(
    production.body.model_versions.map((v: any) => v.version),
    ['1'],
  );
  const viaGet = await mlflow('GET', 'registered-models/get-latest-versions', { name: model, stages: ['archived'] });
  assert.deepEqual(
    viaGet.body.model_versions.map((v: any) => [v.version, v.current_stage]),
    [['2', 'Archived']],
  );
});

test('set-tag and delete-tag change the tags of our model (audited)', async () => {
  const { model } = await trainedModel('tags');
  assert.equal(
    (await mlflow('POST', 'registered-models/set-tag', { name: model, key: 'team', value: 'risk' })).status,
    200,
  );
  const ours = await fetch(`${base}/models/${model}`, authorized());
  assert.deepEqual(((await ours.json()) as { tags: Record<string, string> }).tags, { team: 'risk' });
  assert.equal((await mlflow('DELETE', 'registered-models/delete-tag', { name: model, key: 'team' })).status, 200);
  const after = await mlflow('GET', 'registered-models/get', { name: model });
  assert.deepEqual(after.body.registered_model.tags, []);
  const audit = await fetch(`${base}/models/${model}/audit`, authorized());
  const actions = ((await audit.json()) as Array<{ action: string; reason: string }>).map((a) => a.reason);
  assert.ok(actions.includes('MLflow: tag team set') && actions.includes('MLflow: tag team deleted'));
});

test('setting an alias is a manual promotion: the alias history records it, the version reads by alias', async () => {
  const { model } = await trainedModel('alias');
  const set = await mlflow('POST', 'registered-models/alias', { name: model, alias: 'staging', version: '2' });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body, {});
  const byAlias = await mlflow('GET', 'registered-models/alias', { name: model, alias: 'staging' });
  assert.equal(byAlias.body.model_version.version, '2');
  assert.equal(byAlias.body.model_version.current_stage, 'Staging');
  const history = await fetch(`${base}/models/${model}/aliases/staging/history`, authorized());
  const moves = (await history.json()) as Array<{ version: number; trigger: string; reason: string }>;
  assert.deepEqual(
    moves.map((m) => [m.version, m.trigger]),
    [[2, 'manual']],
  );
  assert.match(moves[0]?.reason ?? '', /MLflow/);
});

test('an alias set on a version marked bad is refused: 400 INVALID_STATE with the reason, the alias unmoved', async () => {
  const { model } = await trainedModel('bad');
  const bad = await fetch(
    `${base}/models/${model}/versions/2/bad`,
    authorized({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reason":"leaks labels"}' }),
  );
  assert.equal(bad.status, 200);
  const refused = await mlflow('POST', 'registered-models/alias', { name: model, alias: 'production', version: '2' });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error_code, 'INVALID_STATE');
  assert.match(refused.body.message, /marked bad \(leaks labels\)/);
  const production = await mlflow('GET', 'registered-models/alias', { name: model, alias: 'production' });
  assert.equal(production.body.model_version.version, '1');
});

test('a missing alias is 404; deleting an alias is FEATURE_DISABLED with how to move it instead', async () => {
  const { model } = await trainedModel('noalias');
  const missing = await mlflow('GET', 'registered-models/alias', { name: model, alias: 'champion' });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
  const deleted = await mlflow('DELETE', 'registered-models/alias', { name: model, alias: 'production' });
  assert.equal(deleted.status, 400);
  assert.equal(deleted.body.error_code, 'FEATURE_DISABLED');
  assert.match(deleted.body.message, /rollback/);
});

test("model-versions/get and search by name and by run_id (ours with dashes or MLflow's without)", async () => {
  const { model, runIds } = await trainedModel('versions');
  const got = await mlflow('GET', 'model-versions/get', { name: model, version: '2' });
  assert.equal(got.body.model_version.version, '2');
  assert.equal(got.body.model_version.current_stage, 'Archived');
  const byName = await mlflow('GET', 'model-versions/search', { filter: `name='${model}'` });
  assert.deepEqual(
    byName.body.model_versions.map((v: any) => v.version),
    ['2', '1'],
  );
  for (const runId of [runIds[0] as string, (runIds[0] as string).replace(/-/g, '')]) {
    const byRun = await mlflow('GET', 'model-versions/search', { filter: `run_id = '${runId}'` });
    assert.deepEqual(
      byRun.body.model_versions.map((v: any) => [v.name, v.version]),
      [[model, '1']],
    );
  }
  const missing = await mlflow('GET', 'model-versions/get', { name: model, version: '9' });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
});

test("get-download-uri is our artifact download: the bytes come back with the client's token", async () => {
  const model = mlflowModelName('download');
  const bytes = smallOnnx();
  const sha256 = await uploadOnnx(base, model, bytes);
  const res = await mlflow('GET', 'model-versions/get-download-uri', { name: model, version: '1' });
  assert.equal(res.body.artifact_uri, `${base}/models/${model}/versions/1/artifact`);
  const download = await fetch(res.body.artifact_uri as string, authorized());
  assert.equal(download.status, 200);
  assert.equal(download.headers.get('x-artifact-sha256'), sha256);
  assert.ok(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(bytes)));
});

test('creating models or versions and tagging versions are FEATURE_DISABLED, each saying how to do it here', async () => {
  const createModel = await mlflow('POST', 'registered-models/create', {
    name: 'new-model',
    tags: [{ key: 'a', value: 'b' }],
  });
  assert.equal(createModel.status, 400);
  assert.equal(createModel.body.error_code, 'FEATURE_DISABLED');
  assert.match(createModel.body.message, /POST \/models\/new-model/);
  const createVersion = await mlflow('POST', 'model-versions/create', {
    name: 'new-model',
    source: 'runs:/abc/model',
    run_id: 'abc',
  });
  assert.equal(createVersion.body.error_code, 'FEATURE_DISABLED');
  assert.match(createVersion.body.message, /POST \/training-runs/);
  const tag = await mlflow('POST', 'model-versions/set-tag', { name: 'new-model', version: '1', key: 'a', value: 'b' });
  assert.equal(tag.body.error_code, 'FEATURE_DISABLED');
  assert.match(tag.body.message, /immutable/);
});

test('the roles of our routes: a reader reads but may not set an alias or a tag; no token is 401 (MLflow error bodies)', async () => {
  const { model } = await trainedModel('roles');
  const reader = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'reader');
  assert.equal((await mlflow('GET', 'registered-models/get', { name: model }, reader)).status, 200);
  const refused = await mlflow(
    'POST',
    'registered-models/alias',
    { name: model, alias: 'staging', version: '1' },
    reader,
  );
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error_code, 'PERMISSION_DENIED');
  assert.match(refused.body.message, /promoter/);
  assert.equal(
    (await mlflow('POST', 'registered-models/set-tag', { name: model, key: 'k', value: 'v' }, reader)).status,
    403,
  );
  const promoter = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'promoter');
  assert.equal(
    (await mlflow('POST', 'registered-models/alias', { name: model, alias: 'staging', version: '1' }, promoter)).status,
    200,
  );
  const anonymous = await fetch(`${base}/api/2.0/mlflow/registered-models/get?name=${model}`);
  assert.equal(anonymous.status, 401);
  assert.equal(((await anonymous.json()) as { error_code: string }).error_code, 'UNAUTHENTICATED');
});

test('a stage transition is FEATURE_DISABLED (stages come from aliases); other registry calls are ENDPOINT_NOT_FOUND', async () => {
  const transition = await mlflow('POST', 'model-versions/transition-stage', {
    name: 'x',
    version: '1',
    stage: 'Production',
  });
  assert.equal(transition.status, 400);
  assert.equal(transition.body.error_code, 'FEATURE_DISABLED');
  assert.match(transition.body.message, /set_registered_model_alias/);
  const update = await mlflow('PATCH', 'registered-models/update', { name: 'x', description: 'y' });
  assert.equal(update.status, 404);
  assert.equal(update.body.error_code, 'ENDPOINT_NOT_FOUND');
});
