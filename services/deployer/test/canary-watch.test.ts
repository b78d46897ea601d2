import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CanaryWatch } from '../src/domain/canary-watch';

const bounds = { maxErrorPercent: 10, maxP99Ms: 100, minRequests: 5, window: 10 };

test('a canary is not judged before its minimum request count, however bad its requests', () => {
  const watch = new CanaryWatch(bounds);
  for (let i = 0; i < 4; i++) assert.equal(watch.record(true, 1_000), undefined);
  assert.deepEqual(watch.record(true, 1_000), { metric: 'error_rate', measured: 100, bound: 10, requests: 5 });
});

test('the p99 latency is the nearest-rank p99 of the answered requests of the window', () => {
  const watch = new CanaryWatch(bounds);
  for (let i = 0; i < 9; i++) assert.equal(watch.record(false, 10), undefined);
  // One slow request of ten: the p99 (nearest rank) is that request.
  assert.deepEqual(watch.record(false, 150), { metric: 'p99_latency', measured: 150, bound: 100, requests: 10 });
});

test('the window slides: recent failures are judged without the good requests that left it', () => {
  const watch = new CanaryWatch({ ...bounds, maxErrorPercent: 50, minRequests: 4, window: 4 });
  for (let i = 0; i < 10; i++) assert.equal(watch.record(false, 1), undefined);
  assert.equal(watch.record(true, 1), undefined);
  assert.equal(watch.record(true, 1), undefined); // 2 of the latest 4: 50% is within the bound
  assert.deepEqual(watch.record(true, 1), { metric: 'error_rate', measured: 75, bound: 50, requests: 13 });
});

test('failed requests do not count in the latency', () => {
  const watch = new CanaryWatch({ ...bounds, maxErrorPercent: 100 });
  for (let i = 0; i < 5; i++) assert.equal(watch.record(i === 0, i === 0 ? 10_000 : 5), undefined);
});
