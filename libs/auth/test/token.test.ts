// Token format, hashing, verification, role checks and the auth config: pure, no stack needed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@mlops/config';
import {
  type TokenRecord,
  type TokenStore,
  TokenVerifier,
  authKeys,
  authSettingsOf,
  authorize,
  bearerOf,
  generateToken,
  hashMatches,
  parseToken,
  sha256Hex,
  verifyToken,
} from '../src';

const ADMIN = 'a-long-enough-admin-token-0123456789';

describe('tokens', () => {
  it('are mlops_<12-char id>_<43-char base64url secret>, with the sha256 of the secret as hash', () => {
    const t = generateToken();
    assert.match(t.token, /^mlops_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(t.token, `mlops_${t.id}_${t.secret}`);
    assert.equal(Buffer.from(t.secret, 'base64url').length, 32);
    assert.equal(t.secretHash, sha256Hex(t.secret));
    assert.match(t.secretHash, /^[a-f0-9]{64}$/);
    assert.notEqual(generateToken().id, t.id);
  });

  it('parse back to id and secret, even when the secret contains _ and -', () => {
    const secret = 'ab_cd-ef'.padEnd(43, 'x');
    assert.deepEqual(parseToken(`mlops_abc123def456_${secret}`), { ok: true, value: { id: 'abc123def456', secret } });
  });

  for (const bad of [
    '',
    'mlops_',
    'mlops_abc_def',
    `MLOPS_abc123def456_${'x'.repeat(43)}`,
    `mlops_abc123def45_${'x'.repeat(43)}`,
    `mlops_abc123def456_${'x'.repeat(42)}`,
    `mlops_abc123def456_${'x'.repeat(43)}!`,
  ]) {
    it(`refuse the malformed ${JSON.stringify(bad)}`, () => {
      const parsed = parseToken(bad);
      assert.equal(parsed.ok, false);
      assert.equal(!parsed.ok && parsed.error.kind, 'malformed-token');
    });
  }

  it('compare hashes exactly', () => {
    assert.equal(hashMatches('secret', sha256Hex('secret')), true);
    assert.equal(hashMatches('secreT', sha256Hex('secret')), false);
    assert.equal(hashMatches('secret', 'abc'), false, 'a malformed stored hash never matches');
  });

  it('come from "Authorization: Bearer <token>" only', () => {
    assert.deepEqual(bearerOf('Bearer abc'), { ok: true, value: 'abc' });
    assert.deepEqual(bearerOf('bearer abc'), { ok: true, value: 'abc' });
    const kind = (header: string | undefined) => {
      const result = bearerOf(header);
      return result.ok ? 'ok' : result.error.kind;
    };
    assert.equal(kind(undefined), 'missing-token');
    assert.equal(kind(' '), 'missing-token');
    for (const bad of ['Basic abc', 'Bearer', 'Bearer a b', 'abc']) assert.equal(kind(bad), 'malformed-token', bad);
  });
});

describe('verifyToken', () => {
  const t = generateToken();
  const parsed = { id: t.id, secret: t.secret };
  const now = new Date('2026-01-01T00:00:00Z');
  const record: TokenRecord = {
    id: t.id,
    name: 'n',
    roles: ['producer'],
    secretHash: t.secretHash,
    createdBy: 'bootstrap',
    createdAt: new Date('2025-12-01T00:00:00Z'),
    expiresAt: null,
    revokedAt: null,
    revision: 1,
  };
  const kind = (r: ReturnType<typeof verifyToken>) => (r.ok ? 'ok' : r.error.kind);

  it('accepts the right secret of a live token', () => {
    assert.deepEqual(verifyToken(record, parsed, now), {
      ok: true,
      value: { tokenId: t.id, name: 'n', roles: ['producer'] },
    });
  });
  it('names what is wrong: unknown, wrong secret, revoked, expired', () => {
    assert.equal(kind(verifyToken(undefined, parsed, now)), 'unknown-token');
    assert.equal(kind(verifyToken(record, { id: t.id, secret: generateToken().secret }, now)), 'unknown-token');
    assert.equal(kind(verifyToken({ ...record, revokedAt: now }, parsed, now)), 'revoked-token');
    assert.equal(kind(verifyToken({ ...record, expiresAt: now }, parsed, now)), 'expired-token');
    assert.equal(kind(verifyToken({ ...record, expiresAt: new Date(now.getTime() + 1) }, parsed, now)), 'ok');
  });
});

describe('authorize', () => {
  it('lets admin do everything and a role do what names it', () => {
    assert.equal(authorize(['admin'], { kind: 'roles', roles: ['data-steward'] }).ok, true);
    assert.equal(authorize(['data-steward'], { kind: 'roles', roles: ['data-steward'] }).ok, true);
    assert.equal(authorize(['reader'], { kind: 'roles', roles: ['producer', 'reader'] }).ok, true);
    assert.equal(authorize(['reader'], { kind: 'authenticated' }).ok, true);
  });
  it('refuses with the role needed and the roles held', () => {
    const refused = authorize(['reader', 'analyst'], { kind: 'roles', roles: ['data-steward'] });
    assert.equal(
      !refused.ok && refused.error.message,
      'needs role data-steward; the token has roles [reader, analyst]',
    );
    assert.equal(authorize([], { kind: 'authenticated' }).ok, false, 'a token without roles is no token');
  });
});

describe('auth config', () => {
  const load = (env: Record<string, string>) => loadConfig('svc', authKeys, env);

  it('refuses an admin token shorter than 32 characters, naming the key', () => {
    assert.throws(
      () => load({ AUTH_ADMIN_TOKEN: 'short' }),
      (e: unknown) =>
        e instanceof ConfigError && /AUTH_ADMIN_TOKEN must be at least 32 characters, got 5/.test(e.message),
    );
  });
  it('refuses to start without an admin token unless auth is disabled explicitly', () => {
    assert.throws(
      () => authSettingsOf('svc', load({})),
      (e: unknown) =>
        e instanceof ConfigError && /AUTH_ADMIN_TOKEN or AUTH_ADMIN_TOKEN_FILE is required/.test(e.message),
    );
    assert.deepEqual(authSettingsOf('svc', load({ AUTH_DISABLED: 'true' })), { disabled: true, metricsPublic: true });
  });
  it('keeps only the hash of the admin token, from the env or from a file', () => {
    assert.deepEqual(authSettingsOf('svc', load({ AUTH_ADMIN_TOKEN: ADMIN, AUTH_METRICS_PUBLIC: 'false' })), {
      disabled: false,
      metricsPublic: false,
      adminTokenHash: sha256Hex(ADMIN),
    });
    const file = join(mkdtempSync(join(tmpdir(), 'auth-')), 'admin-token');
    writeFileSync(file, `${ADMIN}\n`);
    assert.equal(authSettingsOf('svc', load({ AUTH_ADMIN_TOKEN_FILE: file })).adminTokenHash, sha256Hex(ADMIN));
  });
  it('refuses a short or unreadable token file, and both keys at once', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'auth-')), 'admin-token');
    writeFileSync(file, 'short\n');
    assert.throws(
      () => authSettingsOf('svc', load({ AUTH_ADMIN_TOKEN_FILE: file })),
      // libs/config reads a secret's <KEY>_FILE itself, so the refusal may come from either check.
      /(must hold at least 32 characters, it holds 5|AUTH_ADMIN_TOKEN must be at least 32 characters, got 5)/,
    );
    assert.throws(
      () => authSettingsOf('svc', load({ AUTH_ADMIN_TOKEN_FILE: `${file}.missing` })),
      /AUTH_ADMIN_TOKEN_FILE/,
    );
    assert.throws(() => {
      const other = join(mkdtempSync(join(tmpdir(), 'auth-')), 'other-token');
      writeFileSync(other, `${'z'.repeat(40)}\n`);
      return authSettingsOf('svc', load({ AUTH_ADMIN_TOKEN: ADMIN, AUTH_ADMIN_TOKEN_FILE: other }));
    }, /both set/);
  });
  it('documents every key', () => {
    for (const [name, key] of Object.entries(authKeys)) assert.ok(key.description.length > 20, name);
    assert.equal(authKeys.AUTH_ADMIN_TOKEN.secret, true);
  });
  it('authSettingsOrExit exits 78 (EX_CONFIG) with the reason', () => {
    const script = `require(${JSON.stringify(join(__dirname, '../src/config.js'))}).authSettingsOrExit('svc', { AUTH_DISABLED: false, AUTH_METRICS_PUBLIC: true })`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 78, run.stderr);
    assert.match(
      run.stderr,
      /invalid configuration for svc:\n {2}- AUTH_ADMIN_TOKEN or AUTH_ADMIN_TOKEN_FILE is required/,
    );
  });
});

describe('TokenVerifier and the admin token', () => {
  const noRows = { find: () => Promise.resolve(undefined) } as unknown as TokenStore;
  const kind = async (verifier: TokenVerifier, token: string) => {
    const result = await verifier.verify(token);
    return result.ok ? result.value.tokenId : result.error.kind;
  };
  it('accepts the admin token on every request once it has matched, and only it (same length or not)', async () => {
    const verifier = new TokenVerifier(noRows, sha256Hex(ADMIN));
    assert.equal(await kind(verifier, ADMIN), 'bootstrap');
    assert.equal(await kind(verifier, ADMIN), 'bootstrap', 'the remembered token');
    assert.equal(await kind(verifier, `${ADMIN.slice(0, -1)}X`), 'malformed-token', 'same length, another token');
    assert.equal(await kind(verifier, `${ADMIN}0`), 'malformed-token');
    assert.equal(await kind(verifier, ADMIN), 'bootstrap');
  });
  it('without an admin token configured, the admin token is just an unknown one', async () => {
    assert.equal(await kind(new TokenVerifier(noRows, undefined), ADMIN), 'malformed-token');
  });
});
