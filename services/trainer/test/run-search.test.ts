// MLflow's search grammar, on known inputs: what parses, what a filter keeps, how order_by sorts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matches, orderOf, parseFilter, parseOrderBy } from '../src/domain/run-search';

const run = (auc: number | undefined, depth: string, team: string, status = 'FINISHED') => ({
  metrics: auc === undefined ? {} : { auc },
  params: { max_depth: depth },
  tags: { team, 'mlflow.runName': `run-${depth}` },
  attributes: { status, run_name: `run-${depth}`, start_time: 1000 },
});

test('a filter of metric, param, tag and attribute comparisons joined by AND parses into clauses', () => {
  const parsed = parseFilter(
    "metrics.auc >= 0.8 and params.max_depth = '5' AND tags.\"mlflow.runName\" LIKE 'run-%' AND status != 'FAILED'",
  );
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, [
    { entity: 'metric', key: 'auc', comparator: '>=', value: 0.8 },
    { entity: 'param', key: 'max_depth', comparator: '=', value: '5' },
    { entity: 'tag', key: 'mlflow.runName', comparator: 'LIKE', value: 'run-%' },
    { entity: 'attribute', key: 'status', comparator: '!=', value: 'FAILED' },
  ]);
});

test('every clause must hold; a clause on a metric the run lacks does not', () => {
  const filter = parseFilter("metrics.auc > 0.8 AND tags.team = 'risk'");
  assert.ok(filter.ok);
  assert.equal(matches(run(0.9, '5', 'risk'), filter.value), true);
  assert.equal(matches(run(0.7, '5', 'risk'), filter.value), false);
  assert.equal(matches(run(0.9, '5', 'growth'), filter.value), false);
  assert.equal(matches(run(undefined, '5', 'risk'), filter.value), false);
});

test('IN, NOT IN and ILIKE compare strings', () => {
  const filter = parseFilter("params.max_depth IN ('3', '5') AND tags.team ILIKE 'RI%' AND status NOT IN ('KILLED')");
  assert.ok(filter.ok);
  assert.equal(matches(run(0.9, '5', 'risk'), filter.value), true);
  assert.equal(matches(run(0.9, '4', 'risk'), filter.value), false);
  assert.equal(matches(run(0.9, '5', 'risk', 'KILLED'), filter.value), false);
});

test('malformed filters are refused with a reason: OR, a metric against a string, a dangling comparator', () => {
  for (const bad of [
    'metrics.auc > 0.8 OR metrics.auc < 0.1',
    "metrics.auc = 'high'",
    'metrics.auc >',
    "params.depth > '3'",
  ]) {
    const parsed = parseFilter(bad);
    assert.equal(parsed.ok, false, bad);
  }
});

test('order_by sorts by each clause in turn, runs lacking the key last', () => {
  const order = parseOrderBy(['metrics.auc DESC', 'params.max_depth']);
  assert.ok(order.ok);
  const runs = [run(0.7, '3', 'a'), run(undefined, '1', 'a'), run(0.9, '4', 'a'), run(0.9, '2', 'a')];
  const sorted = [...runs].sort(orderOf(order.value, () => 0));
  assert.deepEqual(
    sorted.map((r) => r.params.max_depth),
    ['2', '4', '3', '1'],
  );
});
