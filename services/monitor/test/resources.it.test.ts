// The cost proxy (CPU seconds per 1,000 predictions) and resource use, from the process samples on the
// prediction log, against the REAL embedded ClickHouse: known answers per version, minute and window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictionRow } from '../src/domain';
import { MonitorTables } from '../src/infrastructure/clickhouse-tables';
import { embeddedMonitor } from './embedded';

const DATABASE = 'monitor_resources_test';
const BASE = Date.parse('2025-05-01T00:00:00Z');
const MB = 1_000_000;
let sequence = 0;

const monitor = embeddedMonitor(DATABASE);

/** A logged prediction of `version` at `secondsIn`, with its process sample (none when `instance` is null). */
function logged(model: string, version: number, secondsIn: number, instance: string | null, cpu = 0, rss = 0) {
  const id = `p-${++sequence}`;
  const at = new Date(BASE + secondsIn * 1000).toISOString();
  return predictionRow(id, at, {
    requestId: id,
    model,
    alias: 'production',
    version,
    entityId: `c-${sequence}`,
    features: { a: 1 },
    missingFeatures: [],
    output: { value: 0.5 },
    latencyMs: 1,
    channel: 'http',
    servingRole: 'primary',
    timestamp: at,
    // instances of their own per model: a process serving two models shares its CPU between them
    ...(instance === null ? {} : { resources: { instanceId: `${model}-${instance}`, cpuSeconds: cpu, rssBytes: rss } }),
  });
}

/**
 * Instance a serves v1: minute 0 its counter goes 10.0 -> 10.5 (0.5 s), minute 1 it reads 11.5 (1.0 s).
 * Instance b serves v1 and v2: minute 0 5.0 -> 5.4 (0.4 s: 3/4 to v1, 1/4 to v2); minute 1 it restarted (0.2 s).
 */
function traffic(model: string) {
  return [
    logged(model, 1, 1, 'a', 10.0, 100 * MB),
    logged(model, 1, 2, 'a', 10.0, 100 * MB),
    logged(model, 1, 30, 'a', 10.5, 120 * MB),
    logged(model, 1, 31, 'a', 10.5, 120 * MB),
    logged(model, 1, 5, 'b', 5.0, 200 * MB),
    logged(model, 1, 6, 'b', 5.0, 200 * MB),
    logged(model, 1, 7, 'b', 5.0, 200 * MB),
    logged(model, 2, 40, 'b', 5.4, 210 * MB),
    logged(model, 1, 50, null),
    logged(model, 1, 70, 'a', 11.5, 130 * MB),
    logged(model, 1, 71, 'a', 11.5, 130 * MB),
    logged(model, 2, 90, 'b', 0.2, 90 * MB),
  ];
}

const close = (actual: number | null | undefined, expected: number): void =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

test('CPU seconds per 1,000 predictions per version and minute: counter growth per process, shared by predictions', async () => {
  const model = 'cost-minutes';
  await monitor.sink.write(MonitorTables.predictions, traffic(model));
  const rows = await monitor.analytics.resourceUse(model, 60);
  assert.deepEqual(
    rows.map((r) => [r.version, new Date(r.window_start).toISOString(), Number(r.predictions), Number(r.instances)]),
    [
      [1, '2025-05-01T00:00:00.000Z', 7, 2],
      [2, '2025-05-01T00:00:00.000Z', 1, 1],
      [1, '2025-05-01T00:01:00.000Z', 2, 1],
      [2, '2025-05-01T00:01:00.000Z', 1, 1],
    ],
    'predictions without a process sample are left out',
  );
  close(rows[0]!.cpu_seconds, 0.5 + 0.3);
  close(rows[0]!.cpu_seconds_per_1000, (1000 * 0.8) / 7);
  close(rows[1]!.cpu_seconds, 0.1);
  close(rows[2]!.cpu_seconds_per_1000, (1000 * 1.0) / 2);
  close(rows[3]!.cpu_seconds, 0.2);
  close(rows[0]!.max_rss_bytes, 200 * MB);
  close(rows[2]!.max_rss_bytes, 130 * MB);
});

test('windows sum their minutes; a redelivered prediction changes nothing', async () => {
  const model = 'cost-windows';
  const rows = traffic(model);
  await monitor.sink.write(MonitorTables.predictions, rows);
  await monitor.sink.write(MonitorTables.predictions, rows.slice(0, 5));
  const windows = await monitor.analytics.resourceUse(model, 120);
  assert.deepEqual(
    windows.map((r) => [r.version, Number(r.predictions)]),
    [
      [1, 9],
      [2, 2],
    ],
  );
  close(windows[0]!.cpu_seconds_per_1000, (1000 * 1.8) / 9);
  close(windows[1]!.cpu_seconds_per_1000, (1000 * 0.3) / 2);
  const one = await monitor.analytics.resourceUse(model, 120, 2);
  assert.deepEqual(
    one.map((r) => r.version),
    [2],
  );
});
