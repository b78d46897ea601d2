// The promotion gate, the rollback target and the signature check: pure functions with known answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promotionStack, rollbackTarget } from '../src/domain/alias-history';
import {
  type PromotionPolicy,
  defaultPolicy,
  evaluateGate,
  slicesOfTrained,
  splitSliceMetrics,
} from '../src/domain/policy';
import { checkSignature } from '../src/domain/signature-check';

const policy = (overrides: Partial<PromotionPolicy> = {}): PromotionPolicy => ({
  ...defaultPolicy('binary_classification'),
  floor: 0.7,
  ...overrides,
});
const candidate = (auc: number, slices: Record<string, Record<string, number>> = {}) => ({
  version: 2,
  metrics: { auc },
  slices,
});

test('the first version passes when it clears the floor', () => {
  assert.equal(evaluateGate(policy(), candidate(0.71), null).passed, true);
});

test('the first version stays out below the floor, and the reason names the floor', () => {
  const decision = evaluateGate(policy(), candidate(0.69), null);
  assert.equal(decision.passed, false);
  assert.match(decision.reason, /floor 0\.7/);
});

test('a candidate must beat the baseline by the absolute margin', () => {
  const baseline = { version: 1, metrics: { auc: 0.8 } };
  assert.equal(evaluateGate(policy({ minAbsoluteImprovement: 0.02 }), candidate(0.815), baseline).passed, false);
  assert.equal(evaluateGate(policy({ minAbsoluteImprovement: 0.02 }), candidate(0.825), baseline).passed, true);
});

test('the relative margin is a share of the baseline', () => {
  const baseline = { version: 1, metrics: { auc: 0.8 } };
  const decision = evaluateGate(policy({ minRelativeImprovement: 0.05 }), candidate(0.83), baseline);
  assert.equal(decision.passed, false);
  assert.ok(Math.abs(decision.minImprovement - 0.04) < 1e-12);
});

test('an equal candidate does not replace the baseline', () => {
  assert.equal(evaluateGate(policy(), candidate(0.8), { version: 1, metrics: { auc: 0.8 } }).passed, false);
});

test('lower is better for rmse: a smaller error passes', () => {
  const rmse = defaultPolicy('regression');
  const baseline = { version: 1, metrics: { rmse: 10 } };
  assert.equal(evaluateGate(rmse, { version: 2, metrics: { rmse: 9 }, slices: {} }, baseline).passed, true);
  assert.equal(evaluateGate(rmse, { version: 2, metrics: { rmse: 11 }, slices: {} }, baseline).passed, false);
});

test('a slice lagging the overall metric by more than the allowed gap keeps the candidate out', () => {
  const slices = { plan_basic: { auc: 0.7 }, plan_premium: { auc: 0.86 } };
  const decision = evaluateGate(policy({ maxSliceGap: 0.1 }), candidate(0.85, slices), null);
  assert.equal(decision.passed, false);
  assert.equal(decision.worstSlice, 'plan_basic');
  assert.ok(Math.abs((decision.sliceGap ?? 0) - 0.15) < 1e-12);
  assert.equal(evaluateGate(policy({ maxSliceGap: 0.2 }), candidate(0.85, slices), null).passed, true);
});

test('a candidate without the policy metric stays out', () => {
  const decision = evaluateGate(policy({ metric: 'accuracy' }), candidate(0.9), null);
  assert.equal(decision.passed, false);
  assert.match(decision.reason, /no accuracy metric/);
});

test('metrics named <metric>__<slice> are slices', () => {
  assert.deepEqual(splitSliceMetrics({ auc: 0.8, auc__plan_basic: 0.7, logloss: 0.3 }), {
    overall: { auc: 0.8, logloss: 0.3 },
    slices: { plan_basic: { auc: 0.7 } },
  });
});

const withChampion = (auc: number, champion: { alias?: string; version?: number; auc?: number; skipped?: string }) => ({
  ...candidate(auc),
  champion: {
    alias: champion.alias ?? 'production',
    version: champion.version ?? 1,
    ...(champion.auc === undefined ? {} : { metrics: { auc: champion.auc }, evaluatedOn: 'candidate_holdout' }),
    ...(champion.skipped === undefined ? {} : { skipped: champion.skipped }),
  },
});
const production = { version: 1, metrics: { auc: 0.8 } };

test("the champion's metric on the candidate's holdout is the baseline, not the stored one", () => {
  const decision = evaluateGate(policy(), withChampion(0.75, { auc: 0.7 }), production);
  assert.equal(decision.passed, true);
  assert.equal(decision.baselineValue, 0.7);
  assert.equal(decision.baselineSource, 'candidate_holdout');
  assert.match(decision.reason, /auc 0\.75 vs 0\.7 of version 1 on the candidate's holdout/);
});

test('a candidate that beats the stored metric but not the champion on the same holdout stays out', () => {
  const decision = evaluateGate(policy(), withChampion(0.85, { auc: 0.9 }), production);
  assert.equal(decision.passed, false);
  assert.equal(decision.baselineValue, 0.9);
});

test("a champion that is not the alias's current version is ignored: the stored metric is the baseline", () => {
  const decision = evaluateGate(policy(), withChampion(0.75, { version: 3, auc: 0.7 }), production);
  assert.equal(decision.passed, false);
  assert.equal(decision.baselineValue, 0.8);
  assert.equal(decision.baselineSource, 'stored_metrics');
  assert.match(decision.reason, /the trainer scored production version 3, not the current one/);
  const otherAlias = evaluateGate(policy(), withChampion(0.75, { alias: 'staging', auc: 0.7 }), production);
  assert.equal(otherAlias.baselineSource, 'stored_metrics');
});

test('a skipped champion falls back to the stored metric and the reason says why', () => {
  const decision = evaluateGate(policy(), withChampion(0.85, { skipped: 'artifact missing' }), production);
  assert.equal(decision.passed, true);
  assert.equal(decision.baselineValue, 0.8);
  assert.equal(decision.baselineSource, 'stored_metrics');
  assert.match(decision.reason, /could not score it on the candidate's holdout: artifact missing/);
});

test('without a champion the gate compares with the stored metrics, as before', () => {
  const decision = evaluateGate(policy(), candidate(0.85), production);
  assert.equal(decision.passed, true);
  assert.equal(decision.baselineSource, 'stored_metrics');
  assert.equal(evaluateGate(policy(), candidate(0.71), null).baselineSource, null);
});

test("the trainer's slices become <field>=<value> slices, roc_auc also as auc", () => {
  const slices = slicesOfTrained({
    plan: {
      values: [
        { value: 'basic', metrics: { roc_auc: 0.7, recall: 0.5 } },
        { value: 'premium', metrics: { roc_auc: 0.9, auc: 0.91 } },
      ],
    },
    tenure_days: { values: [{ value: '[-inf, 250)', metrics: { positive_rate: 0.4 } }] },
  });
  assert.deepEqual(slices, {
    'plan=basic': { roc_auc: 0.7, auc: 0.7, recall: 0.5 },
    'plan=premium': { roc_auc: 0.9, auc: 0.91 },
    'tenure_days=[-inf, 250)': { positive_rate: 0.4 },
  });
  const decision = evaluateGate(policy({ maxSliceGap: 0.1 }), candidate(0.85, slices), null);
  assert.equal(decision.worstSlice, 'plan=basic');
  assert.equal(decision.passed, false);
});

test('a rollback goes to the version before the current one, by history', () => {
  const history = [
    { version: 1, trigger: 'gate' as const },
    { version: 3, trigger: 'gate' as const },
    { version: 7, trigger: 'manual' as const },
  ];
  assert.equal(
    rollbackTarget(history, () => false),
    3,
  );
});

test('a second rollback keeps going back instead of returning to the version it left', () => {
  const history = [
    { version: 1, trigger: 'gate' as const },
    { version: 2, trigger: 'gate' as const },
    { version: 3, trigger: 'gate' as const },
    { version: 2, trigger: 'rollback' as const },
  ];
  assert.deepEqual(promotionStack(history), [1, 2]);
  assert.equal(
    rollbackTarget(history, () => false),
    1,
  );
});

test('a rollback skips versions marked bad and has no target when none is left', () => {
  const history = [
    { version: 1, trigger: 'gate' as const },
    { version: 2, trigger: 'gate' as const },
    { version: 3, trigger: 'gate' as const },
  ];
  assert.equal(
    rollbackTarget(history, (v) => v === 2),
    1,
  );
  assert.equal(
    rollbackTarget(history, (v) => v !== 3),
    undefined,
  );
});

const graph = {
  inputs: [
    { name: 'features', type: 'float32', shape: ['N', 2] as (number | string)[] },
    { name: 'plan', type: 'string', shape: ['N', 1] as (number | string)[] },
  ],
  outputs: [{ name: 'score', type: 'float32', shape: ['N', 1] as (number | string)[] }],
};

test('a graph matching its declared signature has no mismatch', () => {
  const declared = {
    inputs: [
      { name: 'features', dtype: 'float32' as const, features: ['a', 'b'] },
      { name: 'plan', dtype: 'string' as const, features: ['plan'] },
    ],
    outputName: 'score',
  };
  assert.deepEqual(checkSignature(graph, declared), []);
});

test('a wrong width, a missing input and an undeclared input are each named', () => {
  const declared = {
    inputs: [
      { name: 'features', dtype: 'float32' as const, features: ['a', 'b', 'c'] },
      { name: 'city', dtype: 'string' as const, features: ['city'] },
    ],
    outputName: 'probability',
  };
  const problems = checkSignature(graph, declared).map((p) => p.problem);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.ok(problems.some((p) => /shape \[N, 2\], declared \[batch, 3\]/.test(p)));
  assert.ok(problems.some((p) => /no input city/.test(p)));
  assert.ok(problems.some((p) => /reads input plan, which is not declared/.test(p)));
  assert.ok(problems.some((p) => /no output probability/.test(p)));
});
