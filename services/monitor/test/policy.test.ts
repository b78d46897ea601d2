import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type TrainingSignals,
  decideTraining,
  defaultPolicy,
  judgePerformance,
  resolvePolicy,
  trainingWindowStart,
} from '../src/domain';

const now = new Date('2025-06-01T12:00:00Z');
const policy = defaultPolicy(3600).training;
const quiet: TrainingSignals = {
  now,
  inFlight: false,
  lastRequestedAt: null,
  lastTrainedAt: new Date('2025-06-01T00:00:00Z'),
  driftStreak: 0,
  degraded: false,
  newLabels: 0,
};

test('drift in K consecutive windows asks for training', () => {
  assert.equal(decideTraining(policy, { ...quiet, driftStreak: 2 })?.trigger, 'drift');
  assert.equal(decideTraining(policy, { ...quiet, driftStreak: 1 }), null);
});

test('no request while one is in flight', () => {
  assert.equal(decideTraining(policy, { ...quiet, driftStreak: 5, inFlight: true }), null);
});

test('no request within the cooldown after the last one', () => {
  const recent = { ...quiet, degraded: true, lastRequestedAt: new Date(now.getTime() - 10 * 60_000) };
  assert.equal(decideTraining(policy, recent), null);
  const later = { ...recent, lastRequestedAt: new Date(now.getTime() - 61 * 60_000) };
  assert.equal(decideTraining(policy, later)?.trigger, 'degradation');
});

test('degradation comes before drift', () => {
  assert.equal(decideTraining(policy, { ...quiet, degraded: true, driftStreak: 9 })?.trigger, 'degradation');
});

test('enough new labels, and the schedule, ask for training when the policy enables them', () => {
  assert.equal(decideTraining(policy, { ...quiet, newLabels: 10_000 }), null);
  assert.equal(decideTraining({ ...policy, minNewLabels: 500 }, { ...quiet, newLabels: 500 })?.trigger, 'new_data');
  assert.equal(decideTraining({ ...policy, scheduleSeconds: 6 * 3600 }, quiet)?.trigger, 'schedule');
  assert.equal(decideTraining({ ...policy, scheduleSeconds: 24 * 3600 }, quiet), null);
});

test('a policy override replaces only the keys it names', () => {
  const resolved = resolvePolicy(defaultPolicy(60), { drift: { psiWarning: 0.2 }, training: { driftWindows: 1 } });
  assert.equal(resolved.drift.psiWarning, 0.2);
  assert.equal(resolved.drift.psiCritical, 0.25);
  assert.equal(resolved.training.driftWindows, 1);
  assert.equal(resolved.training.cooldownSeconds, 3600);
  assert.deepEqual(resolved.window, { by: 'time', seconds: 60 });
});

const window = { servingRole: 'primary', windowKey: 1, windowStart: 'a', windowEnd: 'b', predictions: 100 };

test('a live metric under its floor with enough labels is a degradation; errors degrade above it', () => {
  const floor = { metric: 'accuracy' as const, floor: 0.8, minLabeled: 30 };
  assert.deepEqual(judgePerformance({ ...window, labeled: 50, metrics: { accuracy: 0.7 } }, floor), {
    metric: 'accuracy',
    value: 0.7,
    threshold: 0.8,
    higherIsBetter: true,
  });
  assert.equal(judgePerformance({ ...window, labeled: 10, metrics: { accuracy: 0.1 } }, floor), null);
  assert.equal(judgePerformance({ ...window, labeled: 50, metrics: { accuracy: 0.9 } }, floor), null);
  const rmse = { metric: 'rmse' as const, floor: 2, minLabeled: 1 };
  assert.equal(judgePerformance({ ...window, labeled: 5, metrics: { rmse: 3 } }, rmse)?.higherIsBetter, false);
});

test('training window: drift_start trains from the first drifted window of the streak, only for a drift trigger', () => {
  const lineageStart = '2026-01-01T00:00:00.000Z';
  const streak = { drift_started_at: new Date('2026-03-01T12:00:00.000Z') };
  assert.equal(
    trainingWindowStart({ since: 'drift_start' }, 'drift', lineageStart, streak),
    '2026-03-01T12:00:00.000Z',
  );
  assert.equal(trainingWindowStart({ since: 'first_training' }, 'drift', lineageStart, streak), lineageStart);
  assert.equal(trainingWindowStart({ since: 'drift_start' }, 'schedule', lineageStart, streak), lineageStart);
  assert.equal(
    trainingWindowStart({ since: 'drift_start' }, 'drift', lineageStart, { drift_started_at: null }),
    lineageStart,
  );
});
