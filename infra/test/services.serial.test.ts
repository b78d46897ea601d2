// Boots each service as its own process in its default consumer group, so `npm test` runs this file alone,
// after the parallel files: a second member of a group would take events other tests wait for.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { authorized } from '@mlops/testing';
import { type ServiceProcess, startService, waitReady } from './stack-env';

const SERVICES = ['ingestion', 'feature-store', 'trainer', 'registry', 'deployer', 'monitor'] as const;
const OWNS_CLICKHOUSE = new Set(['feature-store', 'monitor']);

describe('each service boots as its own process against the real stack', { concurrency: 1 }, () => {
  const running: ServiceProcess[] = [];
  after(async () => {
    for (const r of running) r.child.kill('SIGTERM');
    await Promise.all(running.map((r) => r.exited));
  });

  SERVICES.forEach((service, i) => {
    test(`${service}: live, ready when its dependencies answer, metrics, API docs and auth, clean shutdown`, async () => {
      const port = 13_100 + i;
      const dataDir = mkdtempSync(path.join(tmpdir(), `${service}-ch-`));
      const svc = startService(service, port, { CLICKHOUSE_DATA_DIR: dataDir });
      running.push(svc);
      const base = svc.base;
      await waitReady(svc, 90_000);
      const ready = await fetch(`${base}/health/ready`);
      assert.equal(ready.status, 200);
      const report = (await ready.json()) as { ready: boolean; checks: Array<{ name: string; ok: boolean }> };
      // The deployer is ready only once its promoted models are loaded and its online features caught up ('serving').
      const expected = [
        'kafka',
        'postgres',
        ...(OWNS_CLICKHOUSE.has(service) ? ['clickhouse'] : []),
        ...(service === 'deployer' ? ['serving'] : []),
      ].sort();
      assert.deepEqual(report.checks.map((c) => c.name).sort(), expected);
      assert.ok(report.checks.every((c) => c.ok));
      assert.deepEqual(await (await fetch(`${base}/health/live`)).json(), { status: 'ok' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, new RegExp(`process_resident_memory_bytes\\{service="${service}"\\}`));
      for (const name of [
        'mlops_messages_consumed_total',
        'mlops_messages_produced_total',
        'mlops_messages_dead_lettered_total',
        'mlops_handler_duration_seconds',
        'mlops_consumer_lag',
      ]) {
        assert.match(metrics, new RegExp(`# TYPE ${name} `), `${service} exposes ${name}`);
      }
      // The platform gives every service its API document and /auth/*: open docs, tokens for the rest.
      const document = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      assert.ok(document.paths['/auth/tokens'], `${service} documents /auth/tokens`);
      assert.equal((await fetch(`${base}/docs`)).status, 200);
      const anonymous = await fetch(`${base}/auth/whoami`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await fetch(`${base}/auth/whoami`, authorized())).status, 200);
      svc.child.kill('SIGTERM');
      // Nest runs the shutdown hooks, then re-raises SIGTERM so the parent sees how the process ended.
      assert.ok(
        [0, 'SIGTERM'].includes((await svc.exited) as number | string),
        `${service} exits cleanly on SIGTERM:\n${svc.output()}`,
      );
      assert.doesNotMatch(svc.output(), /ERROR.*(shutdown|disconnect)|Unhandled|TypeError/i);
    });
  });

  test('a service refuses to start on bad config, naming every bad key', async () => {
    const svc = startService('monitor', 0, {
      HTTP_PORT: 'eighty',
      CLICKHOUSE_URL: 'ftp://nowhere',
      DATABASE_URL: undefined,
    });
    assert.equal(await svc.exited, 78);
    const out = svc.output();
    assert.match(out, /invalid configuration for monitor/);
    assert.match(out, /DATABASE_URL is required/);
    assert.match(out, /HTTP_PORT must be an integer/);
    assert.match(out, /CLICKHOUSE_URL must use one of http, https/);
  });

  test('a service without an admin token (and auth not disabled) refuses to start with exit 78', async () => {
    const svc = startService('trainer', 13_160, { AUTH_ADMIN_TOKEN: undefined });
    assert.equal(await svc.exited, 78, svc.output());
    assert.match(svc.output(), /AUTH_ADMIN_TOKEN or AUTH_ADMIN_TOKEN_FILE is required/);
  });

  test('not ready while a dependency does not answer', async () => {
    const port = 13_150;
    const svc = startService('registry', port, { KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'error' });
    running.push(svc);
    // Kafka unreachable: the service must never claim readiness; it either serves 503 or fails to start.
    const deadline = Date.now() + 120_000;
    let outcome: 'not-ready' | 'exited' | undefined;
    while (!outcome && Date.now() < deadline) {
      if (svc.child.exitCode !== null) outcome = 'exited';
      else {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        if (res) {
          assert.equal(res.status, 503, 'ready without Kafka');
          outcome = 'not-ready';
        } else await sleep(250);
      }
    }
    assert.ok(outcome, `neither a 503 nor an exit within 120 s:\n${svc.output()}`);
    if (outcome === 'exited') assert.notEqual(svc.child.exitCode, 0, `a failed start exits non-zero:\n${svc.output()}`);
  });
});
