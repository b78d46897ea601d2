// Each rule of a feature view definition on its own, with known answers (validateFeatureView runs them all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CompiledFeature,
  type ValueType,
  checkFeatureOutputs,
  checkFieldReference,
  checkSource,
  checkTtl,
  checkViewIdentity,
  checkWindow,
  compileAggregateFeature,
  compileBucketizeFeature,
  compileCategoricalFeature,
  compileExpressionFeature,
  compileLogFeature,
  evaluationOrder,
  seriesOf,
  typeExpressions,
} from '../../src/domain';
import { customerActivity } from './fixtures';

const paths = (issues: readonly { path: string }[]): string[] => issues.map((issue) => issue.path);

test('view identity: a lowercase name of at most 63 characters and a version >= 1', () => {
  assert.deepEqual(checkViewIdentity('customer_features-2', 1), []);
  assert.deepEqual(checkViewIdentity(`a${'b'.repeat(62)}`, 7), []);
  assert.deepEqual(paths(checkViewIdentity(`a${'b'.repeat(63)}`, 1)), ['/name']);
  assert.deepEqual(paths(checkViewIdentity('Customer', 0)), ['/name', '/version']);
  assert.deepEqual(paths(checkViewIdentity('1st', 1.5)), ['/name', '/version']);
});

test('feature outputs: one-hot expands to one output per category; a name produced twice names its first owner', () => {
  const checked = checkFeatureOutputs([
    { kind: 'categorical', encoding: 'one-hot', name: 'plan', field: 'plan', vocabulary: ['basic', 'premium'] },
    { kind: 'field', name: 'plan__basic', field: 'plan' },
    { kind: 'field', name: '9lives', field: 'plan' },
    { kind: 'categorical', encoding: 'one-hot', name: 'os', field: 'device.os', vocabulary: ['mac os'] },
  ]);
  assert.deepEqual(checked.value.outputsOf, [
    ['plan__basic', 'plan__premium'],
    ['plan__basic'],
    ['9lives'],
    ['os__mac os'],
  ]);
  assert.deepEqual(checked.value.outputNames, ['plan__basic', 'plan__premium', 'plan__basic', '9lives', 'os__mac os']);
  assert.deepEqual(
    [...checked.value.ownerOfOutput],
    [
      ['plan__basic', 0],
      ['plan__premium', 0],
      ['9lives', 2],
      ['os__mac os', 3],
    ],
  );
  assert.deepEqual(checked.issues, [
    { path: '/features/1/name', message: 'duplicate feature name "plan__basic" (also produced by /features/0)' },
    {
      path: '/features/2/name',
      message: `feature name "9lives" must be letters, digits or '_', not starting with a digit, at most 128 characters`,
    },
    {
      path: '/features/3/vocabulary',
      message: `one-hot output "os__mac os" is not a valid feature name; categories must be letters, digits or '_'`,
    },
  ]);
  assert.deepEqual(checkFeatureOutputs([]).issues, [
    { path: '/features', message: 'a view needs at least one feature' },
  ]);
});

test("source: the key and time fields default to the dataset's and must be the dataset's", () => {
  assert.deepEqual(checkSource({ dataset: 'customer_activity' }, customerActivity), {
    value: { dataset: 'customer_activity', entityKeyField: 'customer_id', eventTimeField: 'event_time' },
    issues: [],
  });
  const wrong = checkSource(
    { dataset: 'orders', entityKeyField: 'id', eventTimeField: 'event_time' },
    customerActivity,
  );
  assert.deepEqual(paths(wrong.issues), ['/source/dataset', '/source/entityKeyField']);
  const noTimeField = checkSource({ dataset: 'd' }, { ...customerActivity, name: 'd', eventTimeField: 'ts' });
  assert.deepEqual(noTimeField.issues, [
    { path: '/source/eventTimeField', message: 'the record schema has no field "ts"' },
  ]);
});

test('field references: known, not sensitive (nor inside a sensitive object), of the wanted type', () => {
  const at = '/features/4';
  assert.deepEqual(checkFieldReference(customerActivity, at, 'device.screen_inches', 'number', 'log'), {
    value: 'number',
    issues: [],
  });
  assert.deepEqual(checkFieldReference(customerActivity, at, 'plan', undefined, 'a field feature'), {
    value: 'string',
    issues: [],
  });
  assert.deepEqual(checkFieldReference(customerActivity, at, 'nope', 'number', 'log'), {
    value: 'any',
    issues: [{ path: '/features/4/field', message: 'unknown field "nope" in dataset "customer_activity"' }],
  });
  assert.deepEqual(checkFieldReference(customerActivity, at, 'email', 'string', 'categorical encoding').issues, [
    { path: '/features/4/field', message: 'field "email" is sensitive and may not feed a feature' },
  ]);
  const insideSensitive = checkFieldReference(
    { ...customerActivity, sensitiveFields: ['device'] },
    at,
    'device.os',
    undefined,
    'a field feature',
  );
  assert.deepEqual(paths(insideSensitive.issues), ['/features/4/field']);
  assert.deepEqual(checkFieldReference(customerActivity, at, 'plan', 'number', 'bucketize').issues, [
    { path: '/features/4/field', message: 'bucketize needs a number field, but "plan" is a string' },
  ]);
  const untyped = { ...customerActivity, recordSchema: { type: 'object', properties: { x: {} } } };
  assert.match(
    checkFieldReference(untyped, at, 'x', 'number', 'log').issues[0]!.message,
    /"x" is not declared as one type/,
  );
  assert.deepEqual(checkFieldReference(customerActivity, at, '', 'number', 'log').issues, [
    { path: '/features/4/field', message: 'field is required' },
  ]);
});

test('ttl: a positive duration without years or months', () => {
  assert.deepEqual(checkTtl('P7D'), { value: 604_800_000, issues: [] });
  assert.deepEqual(checkTtl(90), { value: 90_000, issues: [] });
  assert.equal(checkTtl('P1M').value, undefined);
  assert.match(checkTtl('P1M').issues[0]!.message, /years or months/);
  assert.deepEqual(paths(checkTtl(0).issues), ['/ttl']);
});

test('windows: minute buckets up to a day, hour buckets beyond, a whole number of buckets, at most 366 days', () => {
  assert.deepEqual(checkWindow('1h', '/features/0'), {
    value: { windowMs: 3_600_000, granularityMs: 60_000 },
    issues: [],
  });
  assert.deepEqual(checkWindow(86_400, '/features/0'), {
    value: { windowMs: 86_400_000, granularityMs: 60_000 },
    issues: [],
  });
  assert.deepEqual(checkWindow('25h', '/features/0'), {
    value: { windowMs: 90_000_000, granularityMs: 3_600_000 },
    issues: [],
  });
  assert.deepEqual(checkWindow('PT90S', '/features/2').issues, [
    { path: '/features/2/window', message: 'window "PT90S" must be a whole number of minutes (its bucket size)' },
  ]);
  assert.match(checkWindow('P1DT30M', '/features/2').issues[0]!.message, /whole number of hours/);
  assert.match(checkWindow('367d', '/features/2').issues[0]!.message, /longer than 366 days/);
  assert.deepEqual(checkWindow('366d', '/features/2').issues, []);
  assert.equal(checkWindow('soon', '/features/2').value, undefined);
});

test('log: ln(x + 1) unless an offset is given, over a number field', () => {
  const compiled = compileLogFeature(
    { kind: 'log', name: 'log_spend', field: 'monthly_spend' },
    '/features/0',
    ['log_spend'],
    customerActivity,
  );
  assert.deepEqual(compiled.value, {
    compiled: { kind: 'log', name: 'log_spend', field: 'monthly_spend', offset: 1, outputs: ['log_spend'] },
    type: 'number',
    rowFields: ['monthly_spend'],
  });
  assert.equal(
    (
      compileLogFeature({ kind: 'log', name: 'l', field: 'balance', offset: 1000 }, '', ['l'], customerActivity).value
        .compiled as { offset: number }
    ).offset,
    1000,
  );
});

test('bucketize: at least one boundary, strictly increasing', () => {
  const feature = (boundaries: number[]) => ({
    kind: 'bucketize' as const,
    name: 'b',
    field: 'tenure_days',
    boundaries,
  });
  assert.deepEqual(compileBucketizeFeature(feature([0, 30, 365]), '/features/1', ['b'], customerActivity).issues, []);
  assert.deepEqual(compileBucketizeFeature(feature([0, 30, 30, 10]), '/features/1', ['b'], customerActivity).issues, [
    { path: '/features/1/boundaries/2', message: 'boundaries must be strictly increasing: 30 follows 30' },
    { path: '/features/1/boundaries/3', message: 'boundaries must be strictly increasing: 10 follows 30' },
  ]);
  assert.deepEqual(paths(compileBucketizeFeature(feature([]), '/features/1', ['b'], customerActivity).issues), [
    '/features/1/boundaries',
  ]);
});

test('categorical: distinct non-empty categories the field can take; the out-of-vocabulary index after them', () => {
  const index = compileCategoricalFeature(
    { kind: 'categorical', encoding: 'index', name: 'p', field: 'plan', vocabulary: ['basic', 'premium'] },
    '/features/0',
    ['p'],
    customerActivity,
  );
  assert.deepEqual(index.issues, []);
  assert.equal((index.value.compiled as { outOfVocabularyIndex: number }).outOfVocabularyIndex, 2);
  const bad = compileCategoricalFeature(
    {
      kind: 'categorical',
      encoding: 'index',
      name: 'p',
      field: 'plan',
      vocabulary: ['basic', '', 'basic', 'gold'],
      outOfVocabularyIndex: 1,
    },
    '/features/0',
    ['p'],
    customerActivity,
  );
  assert.deepEqual(bad.issues, [
    { path: '/features/0/vocabulary/1', message: 'a category must be a non-empty string' },
    { path: '/features/0/vocabulary/2', message: 'category "basic" appears twice' },
    { path: '/features/0/vocabulary/3', message: 'category "gold" can never occur: not in the enum of "plan"' },
    { path: '/features/0/outOfVocabularyIndex', message: 'out-of-vocabulary index 1 collides with category ""' },
  ]);
  const oneHot = compileCategoricalFeature(
    { kind: 'categorical', encoding: 'one-hot', name: 'os', field: 'device.os', vocabulary: [] },
    '/features/3',
    [],
    customerActivity,
  );
  assert.deepEqual(oneHot.issues, [
    { path: '/features/3/vocabulary', message: 'the vocabulary needs at least one category' },
  ]);
});

test('aggregate: reads the series of its field at its window granularity', () => {
  const compiled = compileAggregateFeature(
    { kind: 'aggregate', name: 'a', field: 'amount', function: 'max', window: '7d' },
    '/features/0',
    ['a'],
    customerActivity,
  );
  assert.deepEqual(compiled.issues, []);
  assert.deepEqual((compiled.value?.compiled as { aggregation: unknown }).aggregation, {
    series: 'amount@3600000',
    field: 'amount',
    granularityMs: 3_600_000,
    windowMs: 604_800_000,
    function: 'max',
  });
  const notNumeric = compileAggregateFeature(
    { kind: 'aggregate', name: 'a', field: 'plan', function: 'sum', window: 'P1M' },
    '/features/5',
    ['a'],
    customerActivity,
  );
  assert.equal(notNumeric.value, undefined);
  assert.deepEqual(paths(notNumeric.issues), ['/features/5/field', '/features/5/window']);
});

test('expressions: names resolve to features first, then to source fields; unknown and sensitive names are refused', () => {
  const owners = new Map([['tenure_years', 3]]);
  const compiled = compileExpressionFeature(
    { kind: 'expression', name: 'e', expression: 'monthly_spend * 12 / max(tenure_years, 1)' },
    '/features/0',
    ['e'],
    customerActivity,
    owners,
  );
  assert.deepEqual(compiled.issues, []);
  assert.deepEqual([...compiled.value!.dependsOn], [[3, 25]]);
  assert.deepEqual(compiled.value!.rowFields, ['monthly_spend']);
  const refused = compileExpressionFeature(
    { kind: 'expression', name: 'e', expression: 'email == nope' },
    '/features/1',
    ['e'],
    customerActivity,
    owners,
  );
  assert.deepEqual(refused.issues, [
    { path: '/features/1/expression', message: 'field "email" at position 0 is sensitive and may not feed a feature' },
    {
      path: '/features/1/expression',
      message: 'unknown name "nope" at position 9: neither a feature of the view nor a field of "customer_activity"',
    },
  ]);
  const unparsable = compileExpressionFeature(
    { kind: 'expression', name: 'e', expression: '1 +' },
    '/features/2',
    ['e'],
    customerActivity,
    owners,
  );
  assert.equal(unparsable.value, undefined);
  assert.deepEqual(paths(unparsable.issues), ['/features/2/expression']);
});

test('evaluation order: each feature after those it references; each cycle reported once', () => {
  const named = (...names: string[]) => names.map((name) => ({ kind: 'expression' as const, name, expression: '1' }));
  const order = evaluationOrder(
    named('a', 'b', 'c'),
    new Map([
      [0, new Map([[2, 0]])],
      [2, new Map([[1, 0]])],
    ]),
  );
  assert.deepEqual(order, { value: [1, 2, 0], issues: [] });
  const cycle = evaluationOrder(
    named('a', 'b', 'c'),
    new Map([
      [0, new Map([[1, 0]])],
      [1, new Map([[0, 0]])],
    ]),
  );
  assert.deepEqual(cycle.issues, [{ path: '/features/0/expression', message: 'features form a cycle: a -> b -> a' }]);
  assert.deepEqual([...cycle.value].sort(), [0, 1, 2]);
});

test('expression types: checked in evaluation order with the types of what they reference', () => {
  const compile = (name: string, expression: string, owners: Map<string, number>) =>
    compileExpressionFeature({ kind: 'expression', name, expression }, '', [name], customerActivity, owners).value!
      .compiled;
  const owners = new Map([
    ['a', 0],
    ['b', 1],
  ]);
  const compiled: CompiledFeature[] = [compile('a', 'b + 1', owners), compile('b', 'plan', owners)];
  const types = new Map<number, ValueType>();
  const issues = typeExpressions(compiled, [1, 0], owners, types, customerActivity);
  assert.deepEqual([...types].sort(), [
    [0, 'number'],
    [1, 'string'],
  ]);
  assert.deepEqual(paths(issues), ['/features/0/expression']);
  assert.match(issues[0]!.message, /must be a number, not a string/);
});

test('series: one per field and granularity, as long as its longest window', () => {
  const aggregate = (name: string, field: string, window: string) =>
    compileAggregateFeature({ kind: 'aggregate', name, field, function: 'sum', window }, '', [name], customerActivity)
      .value!.compiled;
  assert.deepEqual(
    seriesOf([
      aggregate('a', 'amount', '1h'),
      undefined,
      aggregate('b', 'amount', '3h'),
      aggregate('c', 'balance', '2d'),
      aggregate('d', 'amount', '2d'),
    ]),
    [
      { key: 'amount@60000', field: 'amount', granularityMs: 60_000, longestWindowMs: 10_800_000 },
      { key: 'balance@3600000', field: 'balance', granularityMs: 3_600_000, longestWindowMs: 172_800_000 },
      { key: 'amount@3600000', field: 'amount', granularityMs: 3_600_000, longestWindowMs: 172_800_000 },
    ],
  );
});
