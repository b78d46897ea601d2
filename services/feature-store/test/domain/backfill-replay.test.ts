import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureView } from '../../src/domain';
import { FeatureViewReplay, type ReplayStep, type ReplayedRecord } from '../../src/domain/backfill-replay';
import { view } from './fixtures';

const planAndSum: FeatureView = view([
  { kind: 'field', name: 'plan', field: 'plan' },
  { kind: 'aggregate', name: 'sum_1h', field: 'amount', function: 'sum', window: 'PT1H' },
]);
const planOnly: FeatureView = view([{ kind: 'field', name: 'plan', field: 'plan' }]);

const at = (time: string): number => Date.parse(`2025-11-20T${time}Z`);

let arrivals = 0;
/** A record of `entityId`; each arrives a second after the previous one. */
function record(
  recordId: string,
  entityId: string,
  time: string,
  amount: number,
  plan: string,
  sourceEventId = `ev-${recordId}`,
): ReplayedRecord {
  arrivals += 1;
  return {
    entityId,
    recordId,
    sourceEventId,
    eventTimeMs: at(time),
    createdAtMs: at('12:00:00') + arrivals * 1_000,
    fields: { amount, plan },
  };
}

function rowOf(step: ReplayStep) {
  if (step.kind !== 'row') assert.fail(`expected a row, got ${JSON.stringify(step)}`);
  return step.row;
}

test('a replayed row keeps its record event and arrival times, with the features as of its event time', () => {
  const replay = new FeatureViewReplay(planAndSum);
  replay.apply(record('r1', 'a', '09:00:00', 5, 'basic'));
  const second = record('r2', 'a', '09:30:00', 10, 'premium');
  assert.deepEqual(rowOf(replay.apply(second)), {
    entityId: 'a',
    eventTimeMs: at('09:30:00'),
    createdAtMs: second.createdAtMs,
    features: { plan: 'premium', sum_1h: 15 },
    sourceEventId: 'ev-r2',
  });
});

test('a late record gets its row as of its own event time', () => {
  const replay = new FeatureViewReplay(planAndSum);
  replay.apply(record('r1', 'a', '09:00:00', 5, 'basic'));
  replay.apply(record('r2', 'a', '09:30:00', 10, 'premium'));
  // (08:15, 09:15]: r1 and itself; r2 is in its future.
  assert.deepEqual(rowOf(replay.apply(record('r3', 'a', '09:15:00', 1, 'enterprise'))).features, {
    plan: 'enterprise',
    sum_1h: 6,
  });
});

test('a record id already replayed writes no row', () => {
  const replay = new FeatureViewReplay(planAndSum);
  replay.apply(record('r1', 'a', '09:00:00', 5, 'basic'));
  assert.deepEqual(replay.apply(record('r1', 'a', '09:00:00', 5, 'basic', 'ev-redelivered')), { kind: 'duplicate' });
  assert.equal(replay.progress.rows, 1);
});

test('a record that cannot feed the view is skipped, with why', () => {
  const replay = new FeatureViewReplay(planAndSum);
  const step = replay.apply({ ...record('r1', 'a', '09:00:00', 5, 'basic'), eventTimeMs: Number.NaN });
  assert.equal(step.kind, 'skipped');
  assert.match(step.kind === 'skipped' ? step.reason : '', /not a date-time/);
  assert.equal(replay.states.size, 0, 'no state for a skipped record');
});

test('with aggregates, a late record moves the vector of the newest record (its window sum changes)', () => {
  const replay = new FeatureViewReplay(planAndSum);
  replay.apply(record('r1', 'a', '09:00:00', 5, 'basic'));
  replay.apply(record('r2', 'a', '09:30:00', 10, 'premium'));
  replay.apply(record('r3', 'a', '09:15:00', 1, 'enterprise'));
  assert.deepEqual(replay.vectors.get('a'), {
    features: { plan: 'premium', sum_1h: 16 },
    eventTimeMs: at('09:30:00'),
    sourceEventId: 'ev-r3',
  });
});

test('without aggregates, a late record leaves the vector of the newest record as it was', () => {
  const replay = new FeatureViewReplay(planOnly);
  replay.apply(record('r1', 'a', '09:30:00', 10, 'premium'));
  replay.apply(record('r2', 'a', '09:15:00', 1, 'enterprise'));
  assert.deepEqual(replay.vectors.get('a'), {
    features: { plan: 'premium' },
    eventTimeMs: at('09:30:00'),
    sourceEventId: 'ev-r1',
  });
});

test('each entity keeps its own state and vector', () => {
  const replay = new FeatureViewReplay(planAndSum);
  replay.apply(record('r1', 'a', '09:00:00', 5, 'basic'));
  replay.apply(record('r2', 'b', '09:10:00', 7, 'premium'));
  assert.deepEqual([...replay.vectors.keys()].sort(), ['a', 'b']);
  assert.deepEqual(replay.vectors.get('b')?.features, { plan: 'premium', sum_1h: 7 });
});

test('progress counts every record replayed, the rows, the entities and the newest arrival', () => {
  const replay = new FeatureViewReplay(planAndSum);
  replay.apply(record('r1', 'a', '09:00:00', 5, 'basic'));
  replay.apply(record('r2', 'b', '09:10:00', 7, 'basic'));
  replay.apply(record('r1', 'a', '09:00:00', 5, 'basic'));
  const last = { ...record('r3', 'a', '09:20:00', 1, 'basic'), eventTimeMs: Number.NaN };
  replay.apply(last);
  assert.deepEqual(replay.progress, { records: 4, rows: 2, entities: 2, skipped: 1, upToMs: last.createdAtMs });
});

test('progress before any record has no arrival time', () => {
  assert.deepEqual(new FeatureViewReplay(planAndSum).progress, {
    records: 0,
    rows: 0,
    entities: 0,
    skipped: 0,
    upToMs: null,
  });
});
