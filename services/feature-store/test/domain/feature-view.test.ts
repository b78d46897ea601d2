import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FeatureViewDefinition, validateFeatureView } from '../../src/domain';
import { customerActivity, view } from './fixtures';

test('compiles a valid view: outputs in declaration order, expressions after what they reference', () => {
  const compiled = view([
    { kind: 'expression', name: 'spend_per_year', expression: 'monthly_spend * 12 / max(tenure_years, 1)' },
    { kind: 'expression', name: 'tenure_years', expression: 'tenure_days / 365' },
    { kind: 'categorical', encoding: 'one-hot', name: 'plan', field: 'plan', vocabulary: ['basic', 'premium'] },
    { kind: 'aggregate', name: 'amount_sum_1h', field: 'amount', function: 'sum', window: 'PT1H' },
    { kind: 'aggregate', name: 'amount_max_7d', field: 'amount', function: 'max', window: '7d' },
    { kind: 'aggregate', name: 'amount_count_24h', field: 'amount', function: 'count', window: 86_400 },
    { kind: 'field', name: 'os', field: 'device.os' },
  ]);
  assert.deepEqual(compiled.outputNames, [
    'spend_per_year',
    'tenure_years',
    'plan__basic',
    'plan__premium',
    'amount_sum_1h',
    'amount_max_7d',
    'amount_count_24h',
    'os',
  ]);
  assert.deepEqual(
    compiled.features.map((f) => f.name),
    ['tenure_years', 'spend_per_year', 'plan', 'amount_sum_1h', 'amount_max_7d', 'amount_count_24h', 'os'],
  );
  assert.equal(compiled.ttlMs, 604_800_000);
  assert.equal(compiled.horizonMs, 604_800_000);
  assert.deepEqual(compiled.series, [
    { key: 'amount@60000', field: 'amount', granularityMs: 60_000, longestWindowMs: 86_400_000 },
    { key: 'amount@3600000', field: 'amount', granularityMs: 3_600_000, longestWindowMs: 604_800_000 },
  ]);
  assert.deepEqual(compiled.source, {
    dataset: 'customer_activity',
    entityKeyField: 'customer_id',
    eventTimeField: 'event_time',
  });
  assert.deepEqual([...compiled.rowFields].sort(), ['device.os', 'monthly_spend', 'plan', 'tenure_days']);
});

test('lists every reason a definition does not fit, each at its path', () => {
  const definition = {
    name: 'Customer Features',
    version: 0,
    source: { dataset: 'customer_activity', entityKeyField: 'id' },
    ttl: 'P1M',
    features: [
      { kind: 'field', name: 'tenure', field: 'tenure' },
      { kind: 'field', name: 'tenure', field: 'tenure_days', cast: 'number' },
      { kind: 'log', name: 'log_plan', field: 'plan' },
      { kind: 'bucketize', name: 'tenure_bucket', field: 'tenure_days', boundaries: [0, 100, 100, 50] },
      { kind: 'bucketize', name: 'no_buckets', field: 'tenure_days', boundaries: [] },
      {
        kind: 'categorical',
        encoding: 'index',
        name: 'plan_index',
        field: 'plan',
        vocabulary: ['basic', 'basic', 'gold'],
        outOfVocabularyIndex: 0,
      },
      { kind: 'categorical', encoding: 'one-hot', name: 'os', field: 'device.os', vocabulary: ['mac os'] },
      { kind: 'categorical', encoding: 'index', name: 'days_index', field: 'tenure_days', vocabulary: ['1'] },
      { kind: 'expression', name: 'bad_call', expression: 'foo(tenure_days)' },
      { kind: 'expression', name: 'bad_syntax', expression: 'tenure_days +' },
      { kind: 'expression', name: 'unknown_ref', expression: 'tenure_days * nope' },
      { kind: 'expression', name: 'a', expression: 'b + 1' },
      { kind: 'expression', name: 'b', expression: 'a * 2' },
      { kind: 'expression', name: 'wrong_types', expression: 'plan * 2 + if(tenure_days, 1, "x")' },
      { kind: 'expression', name: 'leak', expression: 'email == "x"' },
      { kind: 'field', name: 'email_copy', field: 'email' },
      { kind: 'aggregate', name: 'plan_sum', field: 'plan', function: 'sum', window: '1h' },
      { kind: 'aggregate', name: 'amount_mean', field: 'amount', function: 'mean', window: '1h' },
      { kind: 'aggregate', name: 'amount_sum_90s', field: 'amount', function: 'sum', window: 'PT90S' },
      { kind: 'aggregate', name: 'amount_sum_month', field: 'amount', function: 'sum', window: 'P1M' },
    ],
  } satisfies FeatureViewDefinition;

  const result = validateFeatureView(definition, customerActivity);
  assert.equal(result.ok, false);
  if (result.ok) return;
  const reasons = result.error.map((issue) => `${issue.path}: ${issue.message}`);
  const expected: [string, RegExp][] = [
    ['/name', /lowercase/],
    ['/version', /integer >= 1/],
    ['/source/entityKeyField', /"id" is not the dataset's \("customer_id"\)/],
    ['/ttl', /years or months/],
    ['/features/1/name', /duplicate feature name "tenure" \(also produced by \/features\/0\)/],
    ['/features/6/vocabulary', /"os__mac os" is not a valid feature name/],
    ['/features/0/field', /unknown field "tenure"/],
    ['/features/2/field', /log needs a number field, but "plan" is a string/],
    ['/features/3/boundaries/2', /strictly increasing: 100 follows 100/],
    ['/features/3/boundaries/3', /strictly increasing: 50 follows 100/],
    ['/features/4/boundaries', /at least one boundary/],
    ['/features/5/vocabulary/1', /"basic" appears twice/],
    ['/features/5/vocabulary/2', /"gold" can never occur/],
    ['/features/5/outOfVocabularyIndex', /0 collides with category "basic"/],
    ['/features/7/field', /categorical encoding needs a string field, but "tenure_days" is a number/],
    ['/features/8/expression', /unknown function 'foo' .* at position 0/],
    ['/features/9/expression', /unexpected end of expression at position 13/],
    ['/features/10/expression', /unknown name "nope" at position 14/],
    ['/features/13/expression', /the left operand of '\*' must be a number, not a string \(at position 0\)/],
    ['/features/13/expression', /the condition of if\(\) must be a boolean, not a number \(at position 14\)/],
    ['/features/13/expression', /if\(\) mixes number and string values/],
    ['/features/14/expression', /field "email" at position 0 is sensitive/],
    ['/features/15/field', /"email" is sensitive/],
    ['/features/16/field', /aggregate sum needs a number field, but "plan" is a string/],
    ['/features/18/window', /whole number of minutes/],
    ['/features/19/window', /years or months/],
    ['/features/11/expression', /features form a cycle: a -> b -> a/],
  ];
  for (const [path, message] of expected) {
    assert.ok(
      result.error.some((issue) => issue.path === path && message.test(issue.message)),
      `missing ${path} ${message}; got:\n${reasons.join('\n')}`,
    );
  }
  assert.equal(result.error.length, expected.length, `unexpected extra reasons:\n${reasons.join('\n')}`);
});

test('refuses a view validated against another dataset and an empty feature list', () => {
  const result = validateFeatureView(
    { name: 'v', version: 1, source: { dataset: 'orders' }, ttl: 3600, features: [] },
    customerActivity,
  );
  assert.deepEqual(result.ok ? [] : result.error.map((issue) => issue.path), ['/source/dataset', '/features']);
});

test('a self-reference is a cycle; a feature may shadow the field it transforms', () => {
  const self = validateFeatureView(
    {
      name: 'v',
      version: 1,
      source: { dataset: 'customer_activity' },
      ttl: 'PT24H',
      features: [{ kind: 'expression', name: 'x', expression: 'x + 1' }],
    },
    customerActivity,
  );
  assert.deepEqual(self.ok ? [] : self.error, [
    { path: '/features/0/expression', message: 'features form a cycle: x -> x' },
  ]);
  const shadow = view([
    { kind: 'log', name: 'monthly_spend', field: 'monthly_spend' },
    { kind: 'expression', name: 'double_log_spend', expression: 'monthly_spend * 2' },
  ]);
  assert.deepEqual(
    shadow.features.map((f) => f.name),
    ['monthly_spend', 'double_log_spend'],
  );
});
