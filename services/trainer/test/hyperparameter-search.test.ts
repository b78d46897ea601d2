// The search on a scoring function with a known answer: which configurations it tries, on which budgets, which wins.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ParamValue, runSearch, sampleOf, specProblem } from '../src/domain/hyperparameter-search';

/** Scores a configuration by its `quality` param (higher is better), recording every call. */
function recorder(): {
  calls: Array<{ params: Record<string, ParamValue>; budget: number }>;
  evaluate: (params: Record<string, ParamValue>, budget: number) => { ok: true; metrics: Record<string, number> };
} {
  const calls: Array<{ params: Record<string, ParamValue>; budget: number }> = [];
  return {
    calls,
    evaluate: (params, budget) => {
      calls.push({ params, budget });
      const quality = Number(params.quality ?? 0);
      return { ok: true, metrics: { roc_auc: quality, rmse: 10 - quality } };
    },
  };
}

test('grid search visits every point of the grid once, in order', () => {
  const { calls, evaluate } = recorder();
  const outcome = runSearch(
    { strategy: 'grid', space: { depth: { values: [2, 4] }, quality: { values: [1, 3, 2] } }, maxTrials: 50 },
    'roc_auc',
    evaluate,
  );
  assert.deepEqual(
    calls.map((c) => [c.params.depth, c.params.quality, c.budget]),
    [
      [2, 1, 1],
      [2, 3, 1],
      [2, 2, 1],
      [4, 1, 1],
      [4, 3, 1],
      [4, 2, 1],
    ],
  );
  assert.equal(outcome.trials.length, 6);
  assert.deepEqual(outcome.trials[outcome.bestTrial]?.params, { depth: 2, quality: 3 });
});

test('grid search stops at maxTrials', () => {
  const { calls, evaluate } = recorder();
  runSearch({ strategy: 'grid', space: { quality: { values: [1, 2, 3, 4, 5] } }, maxTrials: 3 }, 'roc_auc', evaluate);
  assert.equal(calls.length, 3);
});

test('successive halving trains all on a small budget and stops the worst early', () => {
  const { calls, evaluate } = recorder();
  const outcome = runSearch(
    {
      strategy: 'successive_halving',
      space: { quality: { values: [5, 1, 9, 3, 7, 2, 8, 4, 6] } },
      maxTrials: 9,
      halvingFactor: 3,
    },
    'roc_auc',
    evaluate,
  );
  // 9 on 1/9 of the rows, the best 3 on 1/3, the best on all: 13 trainings instead of 9 full ones.
  assert.deepEqual(
    calls.map((c) => c.budget),
    [...Array(9).fill(1 / 9), ...Array(3).fill(1 / 3), 1],
  );
  assert.deepEqual(
    calls.slice(9, 12).map((c) => c.params.quality),
    [9, 8, 7],
  );
  assert.equal(outcome.trials.filter((t) => t.state === 'pruned').length, 8);
  assert.equal(outcome.trials.filter((t) => t.state === 'completed').length, 1);
  assert.equal(outcome.trials[outcome.bestTrial]?.params.quality, 9);
});

test('the best trial is chosen by the named metric and its direction (rmse: lowest)', () => {
  const { evaluate } = recorder();
  const outcome = runSearch(
    { strategy: 'grid', space: { quality: { values: [2, 6, 4] } }, metric: 'rmse' },
    'roc_auc',
    evaluate,
  );
  assert.equal(outcome.direction, 'minimize');
  assert.equal(outcome.trials[outcome.bestTrial]?.params.quality, 6);
  const worst = runSearch(
    { strategy: 'grid', space: { quality: { values: [2, 6, 4] } }, metric: 'rmse', direction: 'maximize' },
    'roc_auc',
    evaluate,
  );
  assert.equal(worst.trials[worst.bestTrial]?.params.quality, 2);
});

test('no trial starts once the time budget is spent; the best so far wins', () => {
  const { calls, evaluate } = recorder();
  let clock = 0;
  const outcome = runSearch(
    { strategy: 'grid', space: { quality: { values: [1, 5, 2, 8, 3] } }, timeBudgetSeconds: 2.5 },
    'roc_auc',
    (params, budget) => {
      clock += 1000;
      return evaluate(params, budget);
    },
    () => clock,
  );
  assert.equal(calls.length, 3);
  assert.equal(outcome.stoppedByTime, true);
  assert.equal(outcome.trials[outcome.bestTrial]?.params.quality, 5);
});

test('a failing trial is recorded as failed and does not win', () => {
  const outcome = runSearch({ strategy: 'grid', space: { quality: { values: [1, 99, 2] } } }, 'roc_auc', (params) =>
    params.quality === 99 ? { ok: false, error: 'boom' } : { ok: true, metrics: { roc_auc: Number(params.quality) } },
  );
  assert.equal(outcome.trials.find((t) => t.params.quality === 99)?.state, 'failed');
  assert.equal(outcome.trials[outcome.bestTrial]?.params.quality, 2);
});

test('random search draws seeded samples inside the ranges (integers, log scale)', () => {
  const space = {
    iterations: { min: 10, max: 50, integer: true },
    learning_rate: { min: 0.01, max: 0.3, scale: 'log' as const },
    split: { values: ['a', 'b'] },
  };
  const samples = sampleOf(space, 50, 7);
  assert.deepEqual(samples, sampleOf(space, 50, 7));
  for (const sample of samples) {
    assert.ok(
      Number.isInteger(sample.iterations) && (sample.iterations as number) >= 10 && (sample.iterations as number) <= 50,
    );
    assert.ok((sample.learning_rate as number) >= 0.01 && (sample.learning_rate as number) <= 0.3);
    assert.ok(sample.split === 'a' || sample.split === 'b');
  }
  assert.ok(new Set(samples.map((s) => s.iterations)).size > 10);
});

test('a grid over a range, or an empty list, is refused before any training', () => {
  assert.match(specProblem({ strategy: 'grid', space: { l2: { min: 0, max: 1 } } }) ?? '', /list of values for l2/);
  assert.match(specProblem({ space: { l2: { values: [] } } }) ?? '', /empty/);
});
