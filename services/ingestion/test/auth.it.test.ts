// Who may call ingestion's HTTP API: 401 without a token, 403 naming the role, the right role succeeds, health open;
// a version that weakens the protection of sensitive fields needs admin and an acknowledgement, and is audited.
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createTokenWithRoles } from '@mlops/auth';
import { POSTGRES } from '@mlops/storage';
import { TEST_ADMIN_TOKEN, authorized, uid } from '@mlops/testing';
import { createIngestionApp } from '../src/app';
import { PROTECTION_WEAKENED_ACTION } from '../src/datasets/register-dataset/register-dataset.service';
import { testConfig } from './support';

const definition = (sensitiveFields: Record<string, string>) => ({
  role: 'features',
  recordSchema: {
    type: 'object',
    required: ['customer_id', 'event_time'],
    properties: {
      customer_id: { type: 'string' },
      event_time: { type: 'string', format: 'date-time' },
      email: { type: ['string', 'null'] },
      ssn: { type: ['string', 'null'] },
    },
    additionalProperties: false,
  },
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
  sensitiveFields,
});
const record = { customer_id: 'c-1', event_time: '2025-11-20T07:59:12Z', email: 'a@example.com', ssn: '1' };

let app: INestApplication;
let base: string;
let reader: string;
let steward: string;
let producer: string;

before(async () => {
  app = await createIngestionApp(testConfig());
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  reader = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'reader');
  steward = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'data-steward');
  producer = await createTokenWithRoles(base, TEST_ADMIN_TOKEN, 'producer');
});

after(async () => {
  await app?.close();
});

function put(name: string, body: unknown, token?: string, query = ''): Promise<Response> {
  const init = { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return fetch(`${base}/datasets/${name}${query}`, token === undefined ? init : authorized(init, token));
}

function post(name: string, body: unknown, token?: string): Promise<Response> {
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return fetch(`${base}/datasets/${name}/records`, token === undefined ? init : authorized(init, token));
}

/** A dataset of this test, registered by a data steward with email hashed and ssn dropped. */
async function registered(prefix: string): Promise<string> {
  const name = uid(`auth_${prefix}`);
  const res = await put(name, definition({ email: 'hash', ssn: 'drop' }), steward);
  assert.equal(res.status, 201, await res.text());
  return name;
}

describe('roles on routes', () => {
  test('health is open without a token', async () => {
    assert.equal((await fetch(`${base}/health/live`)).status, 200);
    assert.equal((await fetch(`${base}/health/ready`)).status, 200);
  });

  test('an anonymous mutation is 401 with WWW-Authenticate', async () => {
    const res = await put(uid('auth_anon'), definition({}));
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(((await res.json()) as { error: string }).error, 'unauthenticated');
    assert.equal((await post(uid('auth_anon'), record)).status, 401);
  });

  test('a reader registering a dataset is 403 naming data-steward', async () => {
    const res = await put(uid('auth_reader'), definition({}), reader);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'forbidden');
    assert.match(body.message, /needs role data-steward/);
  });

  test('a reader or a data steward ingesting records is 403 naming producer', async () => {
    const name = await registered('ingest403');
    for (const token of [reader, steward]) {
      const res = await post(name, record, token);
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { message: string }).message, /needs role producer/);
    }
  });

  test('a data steward registers, a producer ingests, a reader reads', async () => {
    const name = await registered('ok');
    const ingested = await post(name, record, producer);
    assert.equal(ingested.status, 200, await ingested.text());
    const read = await fetch(`${base}/datasets/${name}`, authorized({}, reader));
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { version: number }).version, 1);
    assert.equal((await fetch(`${base}/datasets`, authorized({}, reader))).status, 200);
  });

  test('a read without a token is 401', async () => {
    assert.equal((await fetch(`${base}/datasets`)).status, 401);
  });
});

describe('a version that weakens protection', () => {
  async function auditActions(name: string): Promise<Array<{ actor_name: string; details: Record<string, unknown> }>> {
    return app
      .get<DataSource>(POSTGRES)
      .query(
        `SELECT actor_name, details FROM ingestion.audit_log WHERE kind = 'action' AND action = $1 AND details->>'dataset' = $2`,
        [PROTECTION_WEAKENED_ACTION, name],
      );
  }

  test('removing a sensitive field as a data steward is 403 naming the field; nothing is registered', async () => {
    const name = await registered('weaken403');
    const res = await put(name, definition({ ssn: 'drop' }), steward);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: string; message: string; details: { fields: unknown[] } };
    assert.equal(body.error, 'protection_change_forbidden');
    assert.match(body.message, /"email".*needs role admin/);
    assert.deepEqual(body.details.fields, [{ field: 'email', from: 'hash', to: 'none' }]);
    const latest = await fetch(`${base}/datasets/${name}`, authorized());
    assert.equal(((await latest.json()) as { version: number }).version, 1);
  });

  test('turning drop into hash as admin without acknowledgement is 409 naming the field', async () => {
    const name = await registered('weaken409');
    const res = await put(name, definition({ email: 'hash', ssn: 'hash' }), TEST_ADMIN_TOKEN);
    assert.equal(res.status, 409);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'protection_change_unacknowledged');
    assert.match(body.message, /"ssn" \(drop -> hash\).*acknowledgeProtectionChange=true/);
    const refusedToo = await put(
      name,
      definition({ email: 'hash', ssn: 'hash' }),
      TEST_ADMIN_TOKEN,
      '?acknowledgeProtectionChange=false',
    );
    assert.equal(refusedToo.status, 409);
    assert.deepEqual(await auditActions(name), []);
  });

  test('as admin with the acknowledgement it is registered, with an audit row naming the fields', async () => {
    const name = await registered('weaken201');
    const res = await put(name, definition({}), TEST_ADMIN_TOKEN, '?acknowledgeProtectionChange=true');
    const text = await res.text();
    assert.equal(res.status, 201, text);
    assert.equal((JSON.parse(text) as { version: number }).version, 2);
    const rows = await auditActions(name);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.actor_name, 'bootstrap-admin');
    assert.deepEqual(rows[0]!.details, {
      dataset: name,
      version: 2,
      previousVersion: 1,
      fields: [
        { field: 'email', from: 'hash', to: 'none' },
        { field: 'ssn', from: 'drop', to: 'none' },
      ],
      acknowledgement: 'acknowledgeProtectionChange=true',
    });
  });

  test('a version that strengthens protection needs only a data steward and no acknowledgement', async () => {
    const name = await registered('stronger');
    const res = await put(name, definition({ email: 'drop', ssn: 'drop' }), steward);
    assert.equal(res.status, 201, await res.text());
    assert.deepEqual(await auditActions(name), []);
  });
});
