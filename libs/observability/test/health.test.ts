import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthRegistry, createMetricsRegistry } from '../src';

test('ready only when every check answers in time', async () => {
  const health = new HealthRegistry();
  health.register({ name: 'fast', check: async () => undefined });
  assert.equal((await health.evaluate(50)).ready, true);
  health.register({ name: 'hung', check: () => new Promise(() => undefined) });
  health.register({
    name: 'broken',
    check: async () => {
      throw new Error('connection refused');
    },
  });
  const report = await health.evaluate(50);
  assert.equal(report.ready, false);
  assert.deepEqual(
    report.checks.map((c) => [c.name, c.ok]),
    [
      ['fast', true],
      ['hung', false],
      ['broken', false],
    ],
  );
  assert.match(report.checks[1]!.error!, /no answer within 50 ms/);
  assert.equal(report.checks[2]!.error, 'connection refused');
});

test('draining makes readiness fail', async () => {
  const health = new HealthRegistry();
  health.markShuttingDown();
  assert.equal((await health.evaluate()).ready, false);
});

test('the registry carries the service label and process metrics', async () => {
  const text = await createMetricsRegistry('unit').metrics();
  assert.match(text, /process_cpu_user_seconds_total\{service="unit"\}/);
});
