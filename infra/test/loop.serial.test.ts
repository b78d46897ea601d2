// The closed loop end to end, the way a user runs it: `npm start -- --exit-after-demo` (scripts/start.sh) with the
// demo at its small size. Each of the six services is its own process with its own Kafka user and Postgres role;
// the scenario (scripts/demo.mjs) writes its closing figures as JSON and this test asserts every step from them.
// Serial: the services run in their default consumer groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

interface Summary {
  model: string;
  served: { count: number; byVersion: Record<string, number> };
  stored: number;
  loopSeconds: number;
  driftedWindowsBeforeShift: number;
  driftEvents: { model: string; version: number; kind: string }[];
  trainingRequests: { model: string; requestedBy: string; reason: { trigger: string } }[];
  promotions: { model: string; version: number; trigger: string; previousVersion: number | null }[];
  deployments: { model: string; version: number }[];
  performance: { windows: { version: number; labeled: number; metrics: Record<string, number | null> }[] };
}

test(
  'closed loop: v1 serves, the shift drifts, the monitor asks for training, v2 passes the gate and serves, nothing lost',
  { timeout: 1_100_000 },
  async () => {
    const summaryFile = path.join(mkdtempSync(path.join(tmpdir(), 'loop-')), 'summary.json');
    const child = spawn('bash', ['scripts/start.sh', '--exit-after-demo'], {
      cwd: root,
      env: { ...process.env, HTTP_PORT_BASE: '13300', DEMO_SIZE: 'small', DEMO_SUMMARY_FILE: summaryFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, `npm start -- --exit-after-demo failed:\n${output.slice(-6000)}`);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;

    // No drift before the shift, drift after it, for this model.
    assert.equal(summary.driftedWindowsBeforeShift, 0, 'a window drifted before the shift');
    assert.ok(summary.driftEvents.length > 0, 'no drift detected after the shift');
    // Dataset drift (the share of drifted features over its threshold) only in v1's windows after the shift; v2's
    // windows may show single features over a threshold (small windows), not the dataset.
    const datasetDrift = summary.driftEvents.filter((e) => e.kind === 'dataset');
    assert.ok(datasetDrift.length > 0, 'no dataset drift after the shift');
    assert.ok(
      datasetDrift.every((e) => e.model === summary.model && e.version === 1),
      JSON.stringify(datasetDrift),
    );
    // The monitor asked for training because of drift (or the live metric it caused), once per loop.
    const fromMonitor = summary.trainingRequests.filter((r) => r.requestedBy === 'monitor');
    assert.equal(fromMonitor.length, 1, JSON.stringify(summary.trainingRequests));
    assert.equal(fromMonitor[0]!.reason.trigger, 'drift');
    // v2 passed the gate and replaced v1 in production; the deployer says so.
    const v2 = summary.promotions.find((p) => p.version === 2);
    assert.ok(v2, `no promotion of v2: ${JSON.stringify(summary.promotions)}`);
    assert.equal(v2.trigger, 'gate');
    assert.equal(v2.previousVersion, 1);
    assert.ok(summary.deployments.some((d) => d.version === 2));
    assert.ok((summary.served.byVersion['1'] ?? 0) > 0 && (summary.served.byVersion['2'] ?? 0) > 0);
    // Labels that arrived after the predictions were joined to them: live performance of v2 exists, v1's fell.
    const v2Windows = summary.performance.windows.filter((w) => w.version === 2);
    assert.ok(
      v2Windows.length > 0 && v2Windows.every((w) => w.labeled > 0),
      JSON.stringify(summary.performance.windows),
    );
    // Not one prediction lost: every answered prediction is stored in the monitor's ClickHouse, once.
    assert.equal(summary.stored, summary.served.count);
    assert.ok(summary.loopSeconds > 0);
  },
);
