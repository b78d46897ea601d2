import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type AggregationState,
  type FeatureComputation,
  type FeatureView,
  aggregateAsOf,
  applyEvent,
  applyRecord,
  computeFeatures,
  deserializeState,
  emptyAggregationState,
  featuresAsOf,
  serializeState,
} from '../../src/domain';
import { view } from './fixtures';

const amountView: FeatureView = view([
  { kind: 'field', name: 'plan', field: 'plan' },
  { kind: 'aggregate', name: 'count_1h', field: 'amount', function: 'count', window: 'PT1H' },
  { kind: 'aggregate', name: 'sum_1h', field: 'amount', function: 'sum', window: 'PT1H' },
  { kind: 'aggregate', name: 'mean_1h', field: 'amount', function: 'mean', window: 'PT1H' },
  { kind: 'aggregate', name: 'min_1h', field: 'amount', function: 'min', window: 'PT1H' },
  { kind: 'aggregate', name: 'max_1h', field: 'amount', function: 'max', window: 'PT1H' },
  { kind: 'aggregate', name: 'sum_24h', field: 'amount', function: 'sum', window: 'PT24H' },
  { kind: 'aggregate', name: 'max_7d', field: 'amount', function: 'max', window: 'P7D' },
]);

const at = (time: string): number => Date.parse(`2025-11-${time}Z`);

function apply(
  state: AggregationState,
  id: string,
  time: string,
  amount: number | null,
  plan = 'basic',
): FeatureComputation {
  const result = computeFeatures(amountView, { id, eventTime: `2025-11-${time}Z`, fields: { amount, plan } }, state);
  if (!result.ok) assert.fail(result.error);
  return result.value;
}

/** e1 09:00 (5), e2 09:30 (10), e3 10:00 (20), then e4 09:45 (1) out of order. */
function replayScenario(): FeatureComputation[] {
  const steps: FeatureComputation[] = [];
  let state = emptyAggregationState();
  for (const [id, time, amount, plan] of [
    ['e1', '20T09:00:00', 5, 'basic'],
    ['e2', '20T09:30:00', 10, 'basic'],
    ['e3', '20T10:00:00', 20, 'premium'],
    ['e4', '20T09:45:00', 1, 'enterprise'],
  ] as const) {
    const step = apply(state, id, time, amount, plan);
    steps.push(step);
    state = step.state;
  }
  return steps;
}

test('windows are (asOf - window, asOf]: an event exactly one window old is out, one at asOf is in', () => {
  const [, , third] = replayScenario();
  // as of 10:00 the 1h window is (09:00, 10:00]: e2 + e3; e1 at exactly 09:00 is out. 24h and 7d hold all three.
  assert.deepEqual(third?.features, {
    plan: 'premium',
    count_1h: 2,
    sum_1h: 30,
    mean_1h: 15,
    min_1h: 10,
    max_1h: 20,
    sum_24h: 35,
    max_7d: 20,
  });
  assert.equal(third?.outcome, 'counted');
  // One hour later (11:00) e3 at 10:00 sits exactly on the edge and the 1h window is empty.
  const later = featuresAsOf(amountView, third!.state, at('20T11:00:00'));
  assert.deepEqual(later, {
    plan: 'premium',
    count_1h: 0,
    sum_1h: 0,
    mean_1h: null,
    min_1h: null,
    max_1h: null,
    sum_24h: 35,
    max_7d: 20,
  });
});

test('an out-of-order event lands in its own bucket; its row is as of its time, the online vector as of the newest', () => {
  const [, , , fourth] = replayScenario();
  assert.equal(fourth?.outcome, 'counted');
  // Row of e4 as of 09:45: (08:45, 09:45] holds e1 5, e2 10, e4 1.
  assert.deepEqual(fourth?.features, {
    plan: 'enterprise',
    count_1h: 3,
    sum_1h: 16,
    mean_1h: 16 / 3,
    min_1h: 1,
    max_1h: 10,
    sum_24h: 16,
    max_7d: 10,
  });
  // Online vector: newest record e3 (plan premium) as of 10:00: (09:00, 10:00] holds e2 10, e4 1, e3 20.
  assert.equal(fourth?.latest.eventTimeMs, at('20T10:00:00'));
  assert.deepEqual(fourth?.latest.features, {
    plan: 'premium',
    count_1h: 3,
    sum_1h: 31,
    mean_1h: 31 / 3,
    min_1h: 1,
    max_1h: 20,
    sum_24h: 36,
    max_7d: 20,
  });
});

test('a redelivered record is not counted twice and leaves the state unchanged', () => {
  const steps = replayScenario();
  const before = steps[3]!.state;
  const again = apply(before, 'e2', '20T09:30:00', 10);
  assert.equal(again.outcome, 'duplicate');
  assert.equal(again.state, before);
  assert.equal(again.latest.features.sum_1h, 31);
  assert.equal(again.latest.features.count_1h, 3);
});

test('the state survives serialize -> JSON -> deserialize: replay after a restart gives the same answers', () => {
  const before = replayScenario()[3]!.state;
  const text = JSON.stringify(serializeState(before));
  const restored = deserializeState(JSON.parse(text));
  if (!restored.ok) assert.fail(restored.error);
  assert.deepEqual(serializeState(restored.value), serializeState(before));
  assert.equal(JSON.parse(text).version, 1);
  // The redelivery after the restart is still recognised.
  assert.equal(apply(restored.value, 'e3', '20T10:00:00', 20).outcome, 'duplicate');
  // e5 10:15 (4): (09:15, 10:15] holds e2 10, e4 1, e3 20, e5 4.
  const next = apply(restored.value, 'e5', '20T10:15:00', 4);
  assert.deepEqual(next.features, {
    plan: 'basic',
    count_1h: 4,
    sum_1h: 35,
    mean_1h: 8.75,
    min_1h: 1,
    max_1h: 20,
    sum_24h: 40,
    max_7d: 20,
  });
  assert.deepEqual(next.features, apply(before, 'e5', '20T10:15:00', 4).features);
  // The JSON text form is accepted too.
  assert.equal(deserializeState(text).ok, true);
});

test('refuses a state of another version or shape', () => {
  const good = serializeState(replayScenario()[0]!.state);
  assert.deepEqual(deserializeState({ ...good, version: 2 }), {
    ok: false,
    error: 'state version 2 is not supported (expected 1)',
  });
  assert.equal(deserializeState({ ...good, series: { 'amount@60000': [[1, 2, 3]] } }).ok, false);
  assert.equal(deserializeState('{not json').ok, false);
  assert.equal(deserializeState(null).ok, false);
});

test('old buckets expire, and events older than the longest window are ignored', () => {
  let state = replayScenario()[3]!.state;
  state = apply(state, 'e5', '20T10:15:00', 4).state;
  // Eight days later: everything before (watermark - 7d) - 24h (minute buckets) or - 7d (hour buckets) is dropped.
  const jump = apply(state, 'e6', '28T10:15:00', 100);
  assert.deepEqual(jump.features, {
    plan: 'basic',
    count_1h: 1,
    sum_1h: 100,
    mean_1h: 100,
    min_1h: 100,
    max_1h: 100,
    sum_24h: 100,
    max_7d: 100,
  });
  const stored = serializeState(jump.state);
  assert.deepEqual(stored.series['amount@60000'], [[at('28T10:15:00'), 1, 100, 100, 100]]);
  // Hour buckets stay 7d + 7d: a late-but-accepted event's row (as of its own time) still reads its whole 7d window.
  assert.deepEqual(stored.series['amount@3600000'], [
    [at('20T09:00:00'), 3, 16, 1, 10],
    [at('20T10:00:00'), 2, 24, 4, 20],
    [at('28T10:00:00'), 1, 100, 100, 100],
  ]);
  assert.deepEqual(stored.seen, [['e6', at('28T10:15:00')]], 'ids that can no longer count are forgotten');

  // e7 at 21T10:15 is exactly 7 days before the watermark: too old to count.
  const late = apply(jump.state, 'e7', '21T10:15:00', 1000);
  assert.equal(late.outcome, 'late');
  assert.deepEqual(serializeState(late.state).series, stored.series);
  assert.equal(late.latest.features.max_7d, 100);
  // e8 in the next hour bucket is inside the 7d window of the watermark: counted in max_7d only.
  const inside = apply(jump.state, 'e8', '21T11:30:00', 1000);
  assert.equal(inside.outcome, 'counted');
  assert.deepEqual([inside.latest.features.max_7d, inside.latest.features.sum_24h], [1000, 100]);
});

test('the mean (and min, max) of an empty window is null; count and sum are 0', () => {
  const first = apply(emptyAggregationState(), 'n1', '20T09:00:00', null);
  assert.deepEqual(first.features, {
    plan: 'basic',
    count_1h: 0,
    sum_1h: 0,
    mean_1h: null,
    min_1h: null,
    max_1h: null,
    sum_24h: 0,
    max_7d: null,
  });
  assert.equal(featuresAsOf(amountView, emptyAggregationState(), at('20T09:00:00')), null, 'no record, no vector');
});

test('min and max are exact within a bucket; values of one minute share a bucket', () => {
  let state = emptyAggregationState();
  for (const [id, time, amount] of [
    ['m1', '20T09:00:05', 7],
    ['m2', '20T09:00:40', -3],
    ['m3', '20T09:00:59', 12],
  ] as const) {
    state = apply(state, id, time, amount).state;
  }
  assert.deepEqual(serializeState(state).series['amount@60000'], [[at('20T09:00:00'), 3, 16, -3, 12]]);
  const vector = featuresAsOf(amountView, state, at('20T09:30:00'));
  assert.deepEqual([vector?.min_1h, vector?.max_1h, vector?.count_1h], [-3, 12, 3]);
});

test('past the bound on remembered ids, forgotten ids cannot be counted again: older events are treated as late', () => {
  const layout = { series: amountView.series, horizonMs: amountView.horizonMs, maxSeenIds: 2 };
  let state = emptyAggregationState();
  for (const [id, minute] of [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ] as const) {
    state = applyEvent(state, layout, {
      id,
      eventTimeMs: at(`20T09:0${minute}:00`),
      values: { amount: 1 },
      rowFields: {},
    }).state;
  }
  assert.deepEqual([...state.seen.keys()], ['b', 'c']);
  assert.equal(state.seenFloorMs, at('20T09:01:00'));
  const replayOfA = applyEvent(state, layout, {
    id: 'a',
    eventTimeMs: at('20T09:01:00'),
    values: { amount: 1 },
    rowFields: {},
  });
  assert.equal(replayOfA.outcome, 'late');
  const spec = amountView.features.find((f) => f.kind === 'aggregate' && f.name === 'count_1h');
  assert.ok(spec && spec.kind === 'aggregate');
  assert.equal(aggregateAsOf(replayOfA.state, spec.aggregation, at('20T09:05:00')), 3);
});

test('expressions can read windowed aggregates', () => {
  const ratioView = view([
    { kind: 'expression', name: 'share_of_day', expression: 'if(sum_24h > 0, sum_1h / sum_24h, null)' },
    { kind: 'aggregate', name: 'sum_1h', field: 'amount', function: 'sum', window: '1h' },
    { kind: 'aggregate', name: 'sum_24h', field: 'amount', function: 'sum', window: '24h' },
  ]);
  let state = emptyAggregationState();
  const vectors = [];
  for (const [id, time, amount] of [
    ['r1', '20T01:00:00', 30],
    ['r2', '20T09:30:00', 10],
  ] as const) {
    const result = computeFeatures(ratioView, { id, eventTime: `2025-11-${time}Z`, fields: { amount } }, state);
    if (!result.ok) assert.fail(result.error);
    state = result.value.state;
    vectors.push(result.value.features);
  }
  // r1 alone: 30 / 30; r2: (08:30, 09:30] holds 10 of the day's 40.
  assert.deepEqual(vectors, [
    { share_of_day: 1, sum_1h: 30, sum_24h: 30 },
    { share_of_day: 0.25, sum_1h: 10, sum_24h: 40 },
  ]);
});

test('applyRecord: what a record writes (state, row, and the vector only when it moves), nothing for a duplicate', () => {
  const rowOnly: FeatureView = view([{ kind: 'field', name: 'plan', field: 'plan' }]);
  const record = (id: string, time: string, plan: string) => ({
    id,
    eventTime: `2025-11-${time}Z`,
    fields: { amount: 1, plan },
  });
  const step = (v: FeatureView, state: AggregationState, id: string, time: string, plan = 'basic') => {
    const result = applyRecord(v, record(id, time, plan), state);
    if (!result.ok) assert.fail(result.error);
    return result.value;
  };
  // A view without aggregates: the newest record moves the vector, an older one only gets its row.
  const first = step(rowOnly, emptyAggregationState(), 'a', '20T10:00:00');
  assert.deepEqual(first?.vector, { features: { plan: 'basic' }, eventTimeMs: at('20T10:00:00') });
  const older = step(rowOnly, first!.state, 'b', '20T09:00:00', 'premium');
  assert.deepEqual(older?.row, { plan: 'premium' });
  assert.equal(older?.vector, null);
  assert.equal(step(rowOnly, older!.state, 'a', '20T10:00:00'), null, 'the same record id again writes nothing');
  // With a window, an older record still counting in it moves the vector (the newest record's row, one more count)...
  const newest = step(amountView, emptyAggregationState(), 'a', '20T10:00:00');
  const counted = step(amountView, newest!.state, 'b', '20T09:30:00', 'premium');
  assert.equal(counted?.vector?.eventTimeMs, at('20T10:00:00'));
  assert.equal(counted?.vector?.features.plan, 'basic');
  assert.equal(counted?.vector?.features.count_1h, 2);
  // ...one older than the longest window (late) does not.
  const late = step(amountView, counted!.state, 'c', '10T10:00:00');
  assert.equal(late?.vector, null);
  assert.equal(
    late?.row.count_1h,
    0,
    'it still gets its row, but counts in no window (late records update no aggregate)',
  );
});
