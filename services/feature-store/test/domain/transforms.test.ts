import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FeatureView, type JsonObject, computeFeatures, isFresh } from '../../src/domain';
import { closeTo, view } from './fixtures';

const base = {
  customer_id: 'customer-000123',
  event_time: '2025-11-20T07:59:12Z',
  tenure_days: 412,
  monthly_spend: 39.9,
  support_tickets_30d: 2,
  plan: 'premium',
  balance: -5,
  is_active: true,
  code: '42',
  device: { os: 'linux', screen_inches: 13.3 },
};

function compute(compiled: FeatureView, fields: JsonObject = base) {
  const result = computeFeatures(compiled, { id: 'r1', eventTime: '2025-11-20T07:59:12Z', fields });
  if (!result.ok) assert.fail(result.error);
  return result.value;
}

test('passthrough and casts, with dot paths', () => {
  const compiled = view([
    { kind: 'field', name: 'tenure_days', field: 'tenure_days' },
    { kind: 'field', name: 'tenure_text', field: 'tenure_days', cast: 'string' },
    { kind: 'field', name: 'code_number', field: 'code', cast: 'number' },
    { kind: 'field', name: 'plan_number', field: 'plan', cast: 'number' },
    { kind: 'field', name: 'has_tickets', field: 'support_tickets_30d', cast: 'boolean' },
    { kind: 'field', name: 'active_number', field: 'is_active', cast: 'number' },
    { kind: 'field', name: 'os', field: 'device.os' },
    { kind: 'field', name: 'screen', field: 'device.screen_inches' },
    { kind: 'field', name: 'email_free_spend', field: 'amount' },
  ]);
  const { features, nullReasons } = compute(compiled);
  assert.deepEqual(features, {
    tenure_days: 412,
    tenure_text: '412',
    code_number: 42,
    plan_number: null,
    has_tickets: true,
    active_number: 1,
    os: 'linux',
    screen: 13.3,
    email_free_spend: null,
  });
  assert.deepEqual(nullReasons, { plan_number: '"premium" is not a number' });
});

test('log: ln(x + offset), offset 1 by default; a negative argument is a null with a reason', () => {
  const compiled = view([
    { kind: 'log', name: 'log_tickets', field: 'support_tickets_30d' },
    { kind: 'log', name: 'log_tenure', field: 'tenure_days', offset: 0 },
    { kind: 'log', name: 'log_balance', field: 'balance' },
    { kind: 'log', name: 'log_spend', field: 'monthly_spend' },
  ]);
  const { features, nullReasons } = compute(compiled);
  assert.ok(closeTo(features.log_tickets, 1.0986122886681098), `ln 3, got ${features.log_tickets}`);
  assert.ok(closeTo(features.log_tenure, 6.021023349349527), `ln 412, got ${features.log_tenure}`);
  assert.ok(closeTo(features.log_spend, 3.711130063048756), `ln 40.9, got ${features.log_spend}`);
  assert.equal(features.log_balance, null);
  assert.deepEqual(nullReasons, { log_balance: 'log of -5 + 1 = -4 (not positive) is undefined' });

  const missing = compute(compiled, { ...base, monthly_spend: null });
  assert.equal(missing.features.log_spend, null);
  assert.equal(missing.nullReasons.log_spend, undefined, 'a missing input is not a refusal');
});

test('bucketize: index of the bucket [b(i-1), b(i)), boundaries belong to the bucket above', () => {
  const compiled = view([
    { kind: 'bucketize', name: 'tenure_bucket', field: 'tenure_days', boundaries: [0, 100, 365, 730] },
  ]);
  const cases: [number | null, number | null][] = [
    [-1, 0],
    [0, 1],
    [99.5, 1],
    [100, 2],
    [364, 2],
    [365, 3],
    [412, 3],
    [730, 4],
    [10_000, 4],
    [null, null],
  ];
  for (const [tenure, bucket] of cases) {
    assert.equal(
      compute(compiled, { ...base, tenure_days: tenure }).features.tenure_bucket,
      bucket,
      `tenure ${tenure}`,
    );
  }
});

test('categorical index with a default and an explicit out-of-vocabulary index', () => {
  const compiled = view([
    { kind: 'categorical', encoding: 'index', name: 'plan_index', field: 'plan', vocabulary: ['basic', 'premium'] },
    {
      kind: 'categorical',
      encoding: 'index',
      name: 'plan_index_oov99',
      field: 'plan',
      vocabulary: ['basic', 'premium'],
      outOfVocabularyIndex: 99,
    },
  ]);
  assert.deepEqual(compute(compiled, { ...base, plan: 'basic' }).features, { plan_index: 0, plan_index_oov99: 0 });
  assert.deepEqual(compute(compiled, { ...base, plan: 'premium' }).features, { plan_index: 1, plan_index_oov99: 1 });
  assert.deepEqual(compute(compiled, { ...base, plan: 'enterprise' }).features, {
    plan_index: 2,
    plan_index_oov99: 99,
  });
  assert.deepEqual(compute(compiled, { ...base, plan: null }).features, { plan_index: null, plan_index_oov99: null });
});

test('one-hot: one 0/1 feature per category named <feature>__<category>; all 0 out of vocabulary, all null when missing', () => {
  const compiled = view([
    {
      kind: 'categorical',
      encoding: 'one-hot',
      name: 'plan',
      field: 'plan',
      vocabulary: ['basic', 'premium', 'enterprise'],
    },
  ]);
  assert.deepEqual(compute(compiled).features, { plan__basic: 0, plan__premium: 1, plan__enterprise: 0 });
  assert.deepEqual(compute(compiled, { ...base, plan: 'trial' }).features, {
    plan__basic: 0,
    plan__premium: 0,
    plan__enterprise: 0,
  });
  assert.deepEqual(compute(compiled, { ...base, plan: null }).features, {
    plan__basic: null,
    plan__premium: null,
    plan__enterprise: null,
  });
});

test('expressions read source fields and other features (including one-hot outputs), in any declaration order', () => {
  const compiled = view([
    { kind: 'expression', name: 'premium_spend', expression: 'plan__premium * monthly_spend' },
    { kind: 'expression', name: 'spend_per_ticket', expression: 'monthly_spend / coalesce(support_tickets_30d, 1)' },
    { kind: 'categorical', encoding: 'one-hot', name: 'plan', field: 'plan', vocabulary: ['basic', 'premium'] },
    { kind: 'expression', name: 'long_tenure', expression: 'tenure_bucket >= 3' },
    { kind: 'bucketize', name: 'tenure_bucket', field: 'tenure_days', boundaries: [0, 100, 365] },
    { kind: 'expression', name: 'risk', expression: 'if(long_tenure, 0.1, 0.9) * (1 + support_tickets_30d)' },
    { kind: 'expression', name: 'screen_cm', expression: 'device.screen_inches * 2.5' },
  ]);
  const { features } = compute(compiled);
  assert.deepEqual(features, {
    premium_spend: 39.9,
    spend_per_ticket: 19.95,
    plan__basic: 0,
    plan__premium: 1,
    long_tenure: true,
    tenure_bucket: 3,
    risk: 0.30000000000000004, // 0.1 * 3 in binary floating point
    screen_cm: 33.25,
  });
  const sparse = compute(compiled, { ...base, support_tickets_30d: null, monthly_spend: null });
  assert.equal(sparse.features.spend_per_ticket, null);
  assert.equal(sparse.features.risk, null);
});

test('every value is JSON-safe: non-finite results become null with a reason', () => {
  const compiled = view([
    { kind: 'expression', name: 'huge', expression: 'exp(tenure_days * 2)' }, // e^824 overflows a double
    { kind: 'expression', name: 'ratio', expression: 'monthly_spend / (support_tickets_30d - 2)' },
  ]);
  const { features, nullReasons } = compute(compiled);
  assert.deepEqual(features, { huge: null, ratio: null });
  assert.match(nullReasons.huge ?? '', /not a finite number/);
  assert.match(nullReasons.ratio ?? '', /division by zero/);
  assert.equal(JSON.stringify(features), '{"huge":null,"ratio":null}');
});

test('a record without a usable event time or id is refused', () => {
  const compiled = view([{ kind: 'field', name: 'tenure_days', field: 'tenure_days' }]);
  const badTime = computeFeatures(compiled, { id: 'r1', eventTime: 'yesterday', fields: base });
  assert.deepEqual(badTime, { ok: false, error: 'event time "yesterday" is not a date-time' });
  const noId = computeFeatures(compiled, { id: '', eventTime: '2025-11-20T07:59:12Z', fields: base });
  assert.equal(noId.ok, false);
});

test('TTL: a value is fresh up to and including ttl after its event time', () => {
  const compiled = view([{ kind: 'field', name: 'tenure_days', field: 'tenure_days' }]); // ttl P7D
  const eventTime = Date.parse('2025-11-20T00:00:00Z');
  assert.equal(isFresh(compiled, eventTime, Date.parse('2025-11-27T00:00:00Z')), true);
  assert.equal(isFresh(compiled, eventTime, Date.parse('2025-11-27T00:00:00.001Z')), false);
});
