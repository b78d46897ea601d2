// @mlops/auth in two in-process services on the real stack: 401 vs 403, deny by default, token lifecycle,
// tokens travelling between services through mlops.auth.token.changed.v1, and the audit log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import { type AuditRow, TokenStore, createTokenWithRoles, recordOfEvent, sha256Hex } from '../src';
import { type TestService, call, eventually, header, readTopic, secretFile, startService, testKafka } from './support';

const ADMIN_A = `admin-a-${randomBytes(24).toString('base64url')}`;
const ADMIN_B = `admin-b-${randomBytes(24).toString('base64url')}`;
let a: TestService;
let b: TestService;

before(async () => {
  [a, b] = await Promise.all([
    startService('auth-a', { AUTH_ADMIN_TOKEN: ADMIN_A }),
    startService('auth-b', { AUTH_ADMIN_TOKEN_FILE: secretFile(`${ADMIN_B}\n`), AUTH_METRICS_PUBLIC: 'false' }),
  ]);
});

after(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

/** Audit rows of a service matching `match`, waited for: they are written once the answer is sent. */
async function auditRows(service: TestService, match: (row: AuditRow) => boolean, count = 1): Promise<AuditRow[]> {
  return eventually(
    async () => {
      const rows = (await service.audit.list({ limit: 1000 })).filter(match);
      return rows.length >= count ? rows : undefined;
    },
    'audit rows',
    10_000,
  );
}

describe('open routes', () => {
  it('health, docs paths and @Public routes answer without a token; /metrics by config', async () => {
    assert.equal((await call(a.url, 'GET', '/health/live')).status, 200);
    assert.equal((await call(b.url, 'GET', '/health/ready')).status, 200);
    assert.equal((await call(a.url, 'GET', '/probe/open')).status, 200);
    assert.equal((await call(a.url, 'GET', '/openapi.json')).status, 200);
    assert.equal((await call(a.url, 'GET', '/metrics')).status, 200, 'AUTH_METRICS_PUBLIC defaults to true');
    assert.equal((await call(b.url, 'GET', '/metrics')).status, 401, 'AUTH_METRICS_PUBLIC=false');
    assert.equal((await call(b.url, 'GET', '/metrics', ADMIN_B)).status, 200);
    // Express matches routes case-insensitively: the rules follow the declared route, not the spelling.
    assert.equal((await call(b.url, 'GET', '/METRICS')).status, 401);
    assert.equal((await call(a.url, 'GET', '/Health/Live')).status, 200);
  });
});

describe('401: who are you', () => {
  for (const [what, token, message] of [
    ['no token', undefined, /^no bearer token/],
    ['a token that is not ours', 'abc.def.ghi', /not an mlops_<id>_<secret> token/],
    ['an unknown token', `mlops_zzzzzzzzzzzz_${'A'.repeat(43)}`, /^unknown token zzzzzzzzzzzz$/],
    ['a wrong admin token', ADMIN_B, /not an mlops_<id>_<secret> token/],
  ] as const) {
    it(`answers 401 with the reason and WWW-Authenticate for ${what}`, async () => {
      const answer = await call(a.url, 'GET', '/probe/any', token);
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'unauthenticated');
      assert.match(String(answer.body.message), message);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
    });
  }

  it('a malformed Authorization header is 401 too', async () => {
    const response = await fetch(`${a.url}/probe/any`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(response.status, 401);
    assert.match(((await response.json()) as { message: string }).message, /not "Bearer <token>"/);
  });
});

describe('deny by default and 403', () => {
  it('a route without a declaration takes any valid token and refuses none', async () => {
    const reader = await createTokenWithRoles(a.url, ADMIN_A, 'reader');
    assert.deepEqual((await call(a.url, 'GET', '/probe/any', reader)).body, {
      name: (await call(a.url, 'GET', '/auth/whoami', reader)).body.name,
    });
    assert.equal((await call(a.url, 'GET', '/probe/any')).status, 401);
  });

  it('a role missing is 403 naming the role needed and the roles held; admin may do everything', async () => {
    const producer = await createTokenWithRoles(a.url, ADMIN_A, ['producer', 'reader']);
    const refused = await call(a.url, 'PUT', '/probe/datasets/customer_activity', producer);
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, {
      error: 'forbidden',
      message: 'needs role data-steward; the token has roles [producer, reader]',
    });
    assert.equal(
      (await call(a.url, 'POST', '/auth/tokens', producer, { name: 'x', roles: ['admin'] })).status,
      403,
      'only admin issues tokens',
    );
    assert.equal((await call(a.url, 'GET', '/auth/tokens', producer)).status, 403);
    assert.equal((await call(a.url, 'PUT', '/probe/datasets/customer_activity', ADMIN_A)).status, 200);
    const steward = await createTokenWithRoles(a.url, ADMIN_A, 'data-steward');
    assert.equal((await call(a.url, 'PUT', '/probe/datasets/customer_activity', steward)).status, 200);
  });
});

describe('token lifecycle', () => {
  it('admin creates a producer token that works, is listed without secret or hash, is revoked and then refused', async () => {
    const created = await call(a.url, 'POST', '/auth/tokens', ADMIN_A, {
      name: 'ingest-crm-nightly',
      roles: ['producer'],
    });
    assert.equal(created.status, 201);
    const token = String(created.body.token);
    const id = String(created.body.id);
    assert.match(token, new RegExp(`^mlops_${id}_[A-Za-z0-9_-]{43}$`));
    assert.deepEqual(
      { ...created.body, token: undefined, createdAt: undefined },
      {
        id,
        name: 'ingest-crm-nightly',
        roles: ['producer'],
        createdBy: 'bootstrap',
        createdAt: undefined,
        expiresAt: null,
        revokedAt: null,
        status: 'active',
        token: undefined,
      },
    );

    assert.equal((await call(a.url, 'POST', '/probe/records', token, { records: [{}, {}] })).body.accepted, 2);
    assert.deepEqual((await call(a.url, 'GET', '/auth/whoami', token)).body, {
      id,
      name: 'ingest-crm-nightly',
      roles: ['producer'],
    });

    const listed = await call(a.url, 'GET', '/auth/tokens', ADMIN_A);
    assert.equal(listed.status, 200);
    const secret = token.slice(`mlops_${id}_`.length);
    assert.ok(!listed.text.includes(secret), 'the secret is never listed');
    assert.ok(!listed.text.includes(sha256Hex(secret)), 'nor its hash');
    const tokens = listed.body.tokens as Array<Record<string, unknown>>;
    assert.deepEqual(Object.keys(tokens.find((t) => t.id === id)!).sort(), [
      'createdAt',
      'createdBy',
      'expiresAt',
      'id',
      'name',
      'revokedAt',
      'roles',
      'status',
    ]);
    assert.deepEqual(tokens.find((t) => t.id === 'bootstrap')?.name, 'bootstrap-admin');

    const revoked = await call(a.url, 'DELETE', `/auth/tokens/${id}`, ADMIN_A);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, 'revoked');
    const started = Date.now();
    const refused = await eventually(
      async () => {
        const answer = await call(a.url, 'POST', '/probe/records', token, { records: [] });
        return answer.status === 401 ? answer : undefined;
      },
      'the revoked token to be refused',
      2_500,
    );
    assert.ok(Date.now() - started <= 2_500);
    assert.match(String(refused.body.message), new RegExp(`^token ${id} was revoked at `));
    assert.equal(
      (await call(a.url, 'DELETE', `/auth/tokens/${id}`, ADMIN_A)).status,
      200,
      'revoking twice is no error',
    );
    assert.equal((await call(a.url, 'DELETE', '/auth/tokens/nosuchtoken0', ADMIN_A)).status, 404);
  });

  it('a revocation by another replica (same table, no event seen here) is refused within the 2 s cache window', async () => {
    const token = await createTokenWithRoles(a.url, ADMIN_A, 'reader', 'sibling-revoked');
    const id = token.split('_')[1]!;
    // In B, once the event has been applied: no later event of this token can clear B's cache.
    await eventually(
      async () => (await call(b.url, 'GET', '/probe/any', token)).status === 200,
      'the token in B',
      30_000,
    );
    assert.equal((await call(b.url, 'GET', '/probe/any', token)).status, 200, 'verified, hence cached');
    await b.dataSource.query(
      `UPDATE "${b.schema}".auth_tokens SET revoked_at = now(), revision = revision + 1 WHERE id = $1`,
      [id],
    );
    const started = Date.now();
    await eventually(
      async () => (await call(b.url, 'GET', '/probe/any', token)).status === 401,
      'the sibling revocation',
      5_000,
    );
    const took = Date.now() - started;
    assert.ok(took <= 2_300, `refused after ${took} ms`);
  });

  it('an expired token is refused, saying when it expired', async () => {
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const created = await call(a.url, 'POST', '/auth/tokens', ADMIN_A, {
      name: 'short-lived',
      roles: ['reader'],
      expiresAt,
    });
    assert.equal(created.status, 201);
    const token = String(created.body.token);
    assert.equal((await call(a.url, 'GET', '/probe/any', token)).status, 200);
    await sleep(Date.parse(expiresAt) - Date.now() + 50);
    const refused = await call(a.url, 'GET', '/probe/any', token);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.message, `token ${created.body.id} expired at ${expiresAt}`);
    const past = await call(a.url, 'POST', '/auth/tokens', ADMIN_A, {
      name: 'already-over',
      roles: ['reader'],
      expiresAt: '2020-01-01T00:00:00Z',
    });
    assert.equal(past.status, 422);
  });

  it('request bodies are checked against a closed schema', async () => {
    for (const body of [
      { name: 'x', roles: ['superuser'] },
      { name: 'x', roles: [] },
      { name: 'x', roles: ['reader'], admin: true },
      { name: 'Bad Name', roles: ['reader'] },
      { name: 'x', roles: ['reader'], expiresAt: 'tomorrow' },
      [],
    ]) {
      const answer = await call(a.url, 'POST', '/auth/tokens', ADMIN_A, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.error, 'invalid_request');
    }
  });
});

describe('between services', () => {
  it('a token created in A works in B through the event, and its revocation in A reaches B within seconds', async (t) => {
    const created = await call(a.url, 'POST', '/auth/tokens', ADMIN_A, { name: 'travelling', roles: ['producer'] });
    const token = String(created.body.token);
    const id = String(created.body.id);
    await eventually(
      async () => (await call(b.url, 'POST', '/probe/records', token, { records: [{}] })).status === 202,
      'the token in B',
      30_000,
    );
    const events = await readTopic(
      testKafka('auth-it'),
      EventTypes.AuthTokenChangedV1,
      (m) => m.key?.toString() === id,
      (m) => m.length >= 1,
    );
    assert.equal(header(events[0]!, 'ce_source'), `urn:mlops:${a.schema.replace(/_/g, '-')}`);
    const data = JSON.parse(events[0]!.value!.toString()) as Record<string, unknown>;
    assert.equal(data.revision, 1);
    assert.ok(!events[0]!.value!.toString().includes(token.slice(19)), 'the secret never travels');

    assert.equal((await call(a.url, 'DELETE', `/auth/tokens/${id}`, ADMIN_A)).status, 200);
    const started = Date.now();
    await eventually(
      async () => (await call(b.url, 'POST', '/probe/records', token, { records: [] })).status === 401,
      'the revocation in B',
      10_000,
    );
    const took = Date.now() - started;
    t.diagnostic(`revocation reached B in ${took} ms`);
    assert.ok(took < 3_000, `revocation reached B in ${took} ms`);
  });

  it('a token revoked in B is refused in A too (the highest revision wins everywhere)', async () => {
    const token = await createTokenWithRoles(a.url, ADMIN_A, 'reader', 'revoked-elsewhere');
    const id = token.split('_')[1]!;
    await eventually(
      async () => (await call(b.url, 'GET', '/probe/any', token)).status === 200,
      'the token in B',
      30_000,
    );
    assert.equal((await call(b.url, 'DELETE', `/auth/tokens/${id}`, ADMIN_B)).status, 200);
    await eventually(
      async () => (await call(a.url, 'GET', '/probe/any', token)).status === 401,
      'the revocation in A',
      10_000,
    );
    const [row] = await a.dataSource.query(`SELECT revision, revoked_at FROM "${a.schema}".auth_tokens WHERE id = $1`, [
      id,
    ]);
    assert.equal(row.revision, 2);
    assert.ok(row.revoked_at);
  });
});

describe('token table', () => {
  it('keeps the highest revision: a redelivered older event cannot undo a revocation', async () => {
    const store = a.app.get(TokenStore);
    const issued = { ...recordOfEvent(exampleEventData(EventTypes.AuthTokenChangedV1)), id: 'replaytest01' };
    const revoked = { ...issued, revokedAt: new Date('2025-11-20T10:15:00Z'), revision: 2 };
    await store.upsert(a.dataSource.manager, revoked);
    await store.upsert(a.dataSource.manager, issued);
    assert.deepEqual(
      [(await store.find('replaytest01'))?.revision, (await store.find('replaytest01'))?.revokedAt],
      [2, revoked.revokedAt],
    );
    await store.upsert(a.dataSource.manager, { ...revoked, revision: 3, name: 'renamed' });
    assert.equal((await store.find('replaytest01'))?.name, 'renamed');
  });
});

describe('bootstrap admin', () => {
  it('comes from AUTH_ADMIN_TOKEN_FILE as well as AUTH_ADMIN_TOKEN, is listed, and cannot be revoked through the API', async () => {
    const listed = await call(b.url, 'GET', '/auth/tokens', ADMIN_B);
    assert.equal(listed.status, 200);
    const bootstrap = (listed.body.tokens as Array<Record<string, unknown>>).find((t) => t.id === 'bootstrap');
    assert.deepEqual(
      { name: bootstrap?.name, roles: bootstrap?.roles, status: bootstrap?.status },
      { name: 'bootstrap-admin', roles: ['admin'], status: 'active' },
    );
    assert.deepEqual((await call(b.url, 'GET', '/auth/whoami', ADMIN_B)).body, {
      id: 'bootstrap',
      name: 'bootstrap-admin',
      roles: ['admin'],
    });
    assert.equal((await call(b.url, 'GET', '/auth/whoami', ADMIN_A)).status, 401, "A's admin token is not B's");
    assert.equal((await call(b.url, 'DELETE', '/auth/tokens/bootstrap', ADMIN_B)).status, 409);
  });
});

describe('audit log', () => {
  it('records allowed and refused mutations with actor, route and params, and no body values', async () => {
    const producer = await createTokenWithRoles(a.url, ADMIN_A, 'producer', 'audited-producer');
    const producerId = producer.split('_')[1]!;
    assert.equal(
      (await call(a.url, 'POST', '/probe/records', producer, { records: [{ email: 'alice@example.com' }] })).status,
      202,
    );
    assert.equal((await call(a.url, 'PUT', '/probe/datasets/audited_ds', producer)).status, 403);
    assert.equal((await call(a.url, 'PUT', '/probe/datasets/audited_anon')).status, 401);
    assert.equal(
      (await call(a.url, 'POST', '/probe/records/strict', producer, { email: 'bob@example.com' })).status,
      422,
    );
    assert.equal((await call(a.url, 'GET', '/probe/any', producer)).status, 200);

    const allowed = await auditRows(a, (r) => r.actorTokenId === producerId && r.route === '/probe/records');
    assert.deepEqual(pick(allowed[0]!), {
      kind: 'request',
      actorName: 'audited-producer',
      actorRoles: ['producer'],
      method: 'POST',
      route: '/probe/records',
      params: {},
      status: 202,
      outcome: 'allowed',
      reason: null,
    });
    const forbidden = await auditRows(a, (r) => r.params.name === 'audited_ds');
    assert.deepEqual(pick(forbidden[0]!), {
      kind: 'request',
      actorName: 'audited-producer',
      actorRoles: ['producer'],
      method: 'PUT',
      route: '/probe/datasets/:name',
      params: { name: 'audited_ds' },
      status: 403,
      outcome: 'refused',
      reason: 'needs role data-steward; the token has roles [producer]',
    });
    const anonymous = await auditRows(a, (r) => r.params.name === 'audited_anon');
    assert.deepEqual(
      [anonymous[0]!.actorTokenId, anonymous[0]!.status, anonymous[0]!.outcome, anonymous[0]!.reason],
      [null, 401, 'refused', 'no bearer token: send Authorization: Bearer <token>'],
    );
    const failed = await auditRows(a, (r) => r.actorTokenId === producerId && r.route === '/probe/records/strict');
    assert.deepEqual([failed[0]!.status, failed[0]!.outcome, failed[0]!.reason], [422, 'allowed', '422 bad_record']);

    const everything = JSON.stringify(await a.audit.list({ limit: 1000 }));
    assert.ok(!everything.includes('example.com'), 'no record value reaches the audit log');
    assert.equal(
      (await a.audit.list({ limit: 1000 })).filter((r) => r.actorTokenId === producerId && r.method === 'GET').length,
      0,
      'reads are not audited by default',
    );
  });

  it('records reads marked @Audited(), allowed or refused', async () => {
    const analyst = await createTokenWithRoles(a.url, ADMIN_A, 'analyst', 'audited-analyst');
    const reader = await createTokenWithRoles(a.url, ADMIN_A, 'reader', 'audited-reader');
    assert.equal((await call(a.url, 'GET', '/probe/export', analyst)).status, 200);
    assert.equal((await call(a.url, 'GET', '/probe/export', reader)).status, 403);
    const [allowed] = await auditRows(a, (r) => r.actorName === 'audited-analyst' && r.route === '/probe/export');
    const [refused] = await auditRows(a, (r) => r.actorName === 'audited-reader' && r.route === '/probe/export');
    assert.deepEqual([allowed!.method, allowed!.status, allowed!.outcome], ['GET', 200, 'allowed']);
    assert.deepEqual(
      [refused!.status, refused!.outcome, refused!.reason],
      [403, 'refused', 'needs role analyst; the token has roles [reader]'],
    );
  });

  it('records only refusals of a POST marked @NotAudited()', async () => {
    const reader = await createTokenWithRoles(a.url, ADMIN_A, 'reader', 'unaudited-reader');
    const producer = await createTokenWithRoles(a.url, ADMIN_A, 'producer', 'unaudited-producer');
    assert.equal((await call(a.url, 'POST', '/probe/score', reader, {})).status, 200);
    assert.equal((await call(a.url, 'POST', '/probe/score', producer, {})).status, 403);
    const [refused] = await auditRows(a, (r) => r.actorName === 'unaudited-producer' && r.route === '/probe/score');
    assert.equal(refused!.outcome, 'refused');
    const allowed = (await a.audit.list({ limit: 1000 })).filter(
      (r) => r.actorName === 'unaudited-reader' && r.route === '/probe/score',
    );
    assert.deepEqual(allowed, []);
  });

  it('records a domain action with its acknowledgement in the transaction of the effect, and serves the log to admins', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    assert.equal(
      (
        await call(a.url, 'POST', '/probe/datasets/customer_activity/weaken', ADMIN_A, {
          acknowledge: 'email is no longer sensitive: CRM export is hashed upstream',
        })
      ).status,
      201,
    );
    const [action] = await auditRows(a, (r) => r.kind === 'action');
    assert.deepEqual(
      [action!.actorName, action!.action, action!.details],
      [
        'bootstrap-admin',
        'dataset protection weakened',
        {
          dataset: 'customer_activity',
          removedSensitiveFields: ['email'],
          acknowledgement: 'email is no longer sensitive: CRM export is hashed upstream',
        },
      ],
    );
    const served = await call(a.url, 'GET', `/auth/audit?limit=50&since=${encodeURIComponent(since)}`, ADMIN_A);
    assert.equal(served.status, 200);
    assert.ok(
      (served.body.entries as Array<{ action: string | null }>).some((e) => e.action === 'dataset protection weakened'),
    );
    assert.equal((await call(a.url, 'GET', '/auth/audit?limit=0', ADMIN_A)).status, 400);
    assert.equal((await call(a.url, 'GET', '/auth/audit?since=yesterday', ADMIN_A)).status, 400);
    assert.equal(
      (await call(a.url, 'GET', '/auth/audit', await createTokenWithRoles(a.url, ADMIN_A, 'analyst'))).status,
      403,
    );
  });
});

function pick(row: AuditRow) {
  const { kind, actorName, actorRoles, method, route, params, status, outcome, reason } = row;
  return { kind, actorName, actorRoles, method, route, params, status, outcome, reason };
}

describe('AUTH_DISABLED=true', () => {
  let c: TestService;
  before(async () => {
    c = await startService('auth-c', { AUTH_DISABLED: 'true' });
  });
  after(async () => {
    await c?.close();
  });

  it('lets every request act as admin without a token, and still audits mutations under that name', async () => {
    assert.deepEqual((await call(c.url, 'GET', '/auth/whoami')).body, {
      id: 'auth-disabled',
      name: 'auth-disabled',
      roles: ['admin'],
    });
    assert.equal((await call(c.url, 'PUT', '/probe/datasets/open_ds')).status, 200);
    const [row] = await auditRows(c, (r) => r.params.name === 'open_ds');
    assert.deepEqual([row!.actorTokenId, row!.status, row!.outcome], ['auth-disabled', 200, 'allowed']);
  });
});
