// Who may call the feature store's HTTP API: 401 without a token, 403 naming the role, the right role succeeds,
// health open.
import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import { createTokenWithRoles } from '@mlops/auth';
import { EventTypes } from '@mlops/contracts';
import { EventProducer, newEvent } from '@mlops/messaging';
import { TEST_ADMIN_TOKEN, authorized } from '@mlops/testing';
import { createFeatureStoreApp } from '../../src/app';
import { CatalogStore } from '../../src/infrastructure/catalog-store';
import { eventually, runId, testConfig } from './support';

let app: INestApplication;
let base: string;
let dirs: string[] = [];
let reader: string;
let steward: string;
let producer: string;

function view(name: string, dataset: string) {
  return {
    name,
    source: { dataset },
    ttl: '1d',
    features: [{ kind: 'field', name: 'tenure', field: 'tenure_days' }],
  };
}

function create(body: unknown, token?: string): Promise<Response> {
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return fetch(`${base}/feature-views`, token === undefined ? init : authorized(init, token));
}

/** A dataset of this test that the feature store knows. */
async function dataset(prefix: string): Promise<string> {
  const name = `${runId(prefix)}_activity`;
  await app.get(EventProducer).publish(
    newEvent(
      EventTypes.DatasetRegisteredV1,
      {
        dataset: name,
        version: 1,
        role: 'features',
        recordSchema: {
          type: 'object',
          required: ['customer_id', 'event_time', 'tenure_days'],
          properties: {
            customer_id: { type: 'string' },
            event_time: { type: 'string', format: 'date-time' },
            tenure_days: { type: 'integer' },
          },
        },
        entityKeyField: 'customer_id',
        eventTimeField: 'event_time',
        sensitiveFields: [],
        registeredAt: new Date().toISOString(),
      },
      { source: 'urn:mlops:test:feature-store-auth', subject: name },
    ),
  );
  const catalog = app.get(CatalogStore);
  await eventually(async () => (await catalog.dataset(name)) !== undefined, 'the dataset registration');
  return name;
}

before(async () => {
  const setup = await testConfig();
  dirs = [setup.clickhouseDir, setup.artifactDir];
  app = await createFeatureStoreApp(setup.config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  reader = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'reader');
  steward = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'data-steward');
  producer = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'producer');
});

after(async () => {
  await app?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('health is open without a token', async () => {
  assert.equal((await fetch(`${base}/health/live`)).status, 200);
  assert.equal((await fetch(`${base}/health/ready`)).status, 200);
});

test('an anonymous view definition is 401 with WWW-Authenticate', async () => {
  const res = await create(view(runId('anon'), 'whatever'));
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.equal(((await res.json()) as { error: string }).error, 'unauthenticated');
});

test('a reader or a producer defining a view is 403 naming data-steward', async () => {
  for (const token of [reader, producer]) {
    const res = await create(view(runId('ro'), 'whatever'), token);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'forbidden');
    assert.match(body.message, /needs role data-steward/);
  }
});

test('a data steward defines a view; a reader reads it; without a token the read is 401', async () => {
  const source = await dataset('fsauth');
  const name = runId('fsauthview');
  const res = await create(view(name, source), steward);
  assert.equal(res.status, 201, await res.text());
  const read = await fetch(`${base}/feature-views/${name}`, authorized({}, reader));
  assert.equal(read.status, 200);
  assert.equal(((await read.json()) as { name: string }).name, name);
  assert.equal((await fetch(`${base}/feature-views/${name}`)).status, 401);
  const online = await fetch(`${base}/feature-views/${name}/entities/nobody`, authorized({}, reader));
  assert.notEqual(online.status, 401);
  assert.notEqual(online.status, 403);
});
