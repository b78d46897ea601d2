import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { authorized } from '@mlops/testing';
import { createDeployerApp } from '../src/app';
import { testConfig } from './support';

/**
 * The HTTP layer's answers do not depend on the adapter: the deployer on Fastify (its default) and on Express
 * refuses a bad token the same way, reads the same bodies, and maps a body parser's errors to the same 4xx.
 */
const ADAPTERS = ['fastify', 'express'] as const;
const apps = new Map<string, { app: INestApplication; base: string; artifactDir: string }>();

before(async () => {
  for (const adapter of ADAPTERS) {
    const { config, artifactDir } = await testConfig({ HTTP_ADAPTER: adapter });
    const app = await createDeployerApp(config);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    apps.set(adapter, { app, base: `http://127.0.0.1:${port}`, artifactDir });
  }
});

after(async () => {
  for (const { app, artifactDir } of apps.values()) {
    await app.close();
    await rm(artifactDir, { recursive: true, force: true });
  }
});

const baseOf = (adapter: string): string => apps.get(adapter)?.base ?? '';

for (const adapter of ADAPTERS) {
  test(`[${adapter}] the server under Nest is ${adapter}`, () => {
    const server = apps.get(adapter)?.app.getHttpAdapter().getType();
    assert.equal(server, adapter);
  });

  test(`[${adapter}] an unknown token gets 401 unauthenticated with WWW-Authenticate`, async () => {
    const res = await fetch(
      `${baseOf(adapter)}/models/churn/predict`,
      authorized(
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: {} }) },
        'not-a-token',
      ),
    );
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="mlops"');
    assert.equal(((await res.json()) as { error: string }).error, 'unauthenticated');
  });

  test(`[${adapter}] a body that is not JSON gets 400 Bad Request (as Nest on Express answers it)`, async () => {
    const res = await fetch(
      `${baseOf(adapter)}/models/churn/predict`,
      authorized({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"features": {' }),
    );
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'Bad Request');
  });

  test(`[${adapter}] a body over 100 KiB gets 413 payload_too_large`, async () => {
    const body = JSON.stringify({ features: { note: 'x'.repeat(110 * 1024) } });
    const res = await fetch(
      `${baseOf(adapter)}/models/churn/predict`,
      authorized({ method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    );
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: string }).error, 'payload_too_large');
  });

  test(`[${adapter}] a body the schema refuses gets 400 invalid_request, an unknown model 404`, async () => {
    const post = (body: unknown): Promise<Response> =>
      fetch(
        `${baseOf(adapter)}/models/no-such-model/predict`,
        authorized({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      );
    const invalid = await post({ features: { tenure_days: [1] } });
    assert.equal(invalid.status, 400);
    assert.equal(((await invalid.json()) as { error: string }).error, 'invalid_request');
    const unknown = await post({ features: { tenure_days: 1 } });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: string }).error, 'unknown_model');
  });
}
