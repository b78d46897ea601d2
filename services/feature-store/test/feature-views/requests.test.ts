// The request schemas of the feature-store endpoints: shapes are refused here (400), before any use case runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type RequestIssue, requestValidator } from '@mlops/http';
import type { FeatureViewDefinition } from '../../src/domain';
import {
  type CreateFeatureViewRequest,
  createFeatureViewRequest,
} from '../../src/feature-views/create-feature-view/create-feature-view.request';
import { getFeatureViewParams } from '../../src/feature-views/get-feature-view/get-feature-view.request';
import {
  getOnlineFeaturesParams,
  getOnlineFeaturesQuery,
} from '../../src/feature-views/get-online-features/get-online-features.request';

// A request is a definition without its version: the use case passes it on as one (compile-time check).
const asDraft = (request: CreateFeatureViewRequest): Omit<FeatureViewDefinition, 'version'> => request;

const createView = requestValidator<CreateFeatureViewRequest>(createFeatureViewRequest);
const definition = {
  name: 'customer',
  source: { dataset: 'activity' },
  ttl: '1d',
  features: [
    { kind: 'field', name: 'tenure', field: 'tenure_days', cast: 'number' },
    { kind: 'log', name: 'log_amount', field: 'amount', offset: 2 },
    { kind: 'bucketize', name: 'tenure_bucket', field: 'tenure_days', boundaries: [0, 30] },
    {
      kind: 'categorical',
      encoding: 'index',
      name: 'plan_idx',
      field: 'plan',
      vocabulary: ['basic'],
      outOfVocabularyIndex: 1,
    },
    { kind: 'categorical', encoding: 'one-hot', name: 'plan', field: 'plan', vocabulary: ['basic'] },
    { kind: 'expression', name: 'double', expression: 'tenure * 2' },
    { kind: 'aggregate', name: 'txn_count_1h', field: 'amount', function: 'count', window: 3600 },
  ],
};

function issuesOf(result: { ok: true } | { ok: false; issues: RequestIssue[] }): RequestIssue[] {
  return result.ok ? [] : result.issues;
}

function withFeature(feature: unknown): unknown {
  return { ...definition, features: [definition.features[0], feature] };
}

test('a definition of every feature kind passes as it is', () => {
  const result = createView(definition);
  assert.equal(result.ok, true, JSON.stringify(issuesOf(result)));
  assert.deepEqual(result.ok && asDraft(result.value), definition);
});

test('an unknown key is refused and named: at the top, in the source, in a feature; version included', () => {
  const issues = issuesOf(
    createView({
      ...definition,
      version: 3,
      owner: 'me',
      source: { dataset: 'activity', table: 'x' },
      features: [{ ...definition.features[0], colour: 'red' }],
    }),
  );
  assert.deepEqual(issues.map((i) => i.path).sort(), ['/features/0/colour', '/owner', '/source/table', '/version']);
  assert.ok(issues.every((i) => i.message === 'is not a known key'));
});

test('every missing required key is named', () => {
  assert.deepEqual(
    issuesOf(createView({ source: {}, features: [{ kind: 'aggregate', name: 'a', field: 'amount' }] })),
    [
      { path: '/name', message: 'is required' },
      { path: '/ttl', message: 'is required' },
      { path: '/source/dataset', message: 'is required' },
      { path: '/features/0/function', message: 'is required' },
      { path: '/features/0/window', message: 'is required' },
    ],
  );
});

test('a window or ttl of null, an object or a boolean is refused at its path', () => {
  for (const window of [null, { hours: 1 }, true]) {
    const issues = issuesOf(
      createView(withFeature({ kind: 'aggregate', name: 'a', field: 'amount', function: 'sum', window })),
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      ['/features/1/window'],
      JSON.stringify(window),
    );
  }
  assert.deepEqual(
    issuesOf(createView({ ...definition, ttl: null })).map((i) => i.path),
    ['/ttl'],
  );
});

test('an unknown feature kind, cast, function or encoding is refused with the allowed values', () => {
  assert.deepEqual(
    issuesOf(createView(withFeature({ kind: 'window', name: 'what' }))).map((i) => i.path),
    ['/features/1'],
  );
  const cast = issuesOf(createView(withFeature({ kind: 'field', name: 'x', field: 'plan', cast: 'date' })));
  assert.deepEqual(cast, [{ path: '/features/1/cast', message: 'must be one of "number", "string", "boolean"' }]);
  const median = issuesOf(
    createView(withFeature({ kind: 'aggregate', name: 'a', field: 'amount', function: 'median', window: '1h' })),
  );
  assert.deepEqual(
    median.map((i) => i.path),
    ['/features/1/function'],
  );
  const encoding = issuesOf(
    createView(withFeature({ kind: 'categorical', encoding: 'hash', name: 'c', field: 'plan', vocabulary: [] })),
  );
  assert.deepEqual(
    encoding.map((i) => i.path),
    ['/features/1/encoding'],
  );
});

test('wrong types are refused, never coerced, with nested paths', () => {
  const issues = issuesOf(
    createView({
      ...definition,
      name: 7,
      features: [
        null,
        { kind: 'bucketize', name: 'b', field: 'x', boundaries: [1, '2'] },
        { kind: 'categorical', encoding: 'index', name: 'c', field: 'p', vocabulary: [1], outOfVocabularyIndex: 1.5 },
      ],
    }),
  );
  assert.deepEqual(
    issues.map((i) => i.path),
    [
      '/name',
      '/features/0',
      '/features/1/boundaries/1',
      '/features/2/vocabulary/0',
      '/features/2/outOfVocabularyIndex',
    ],
  );
  assert.deepEqual(
    issuesOf(createView([definition])).map((i) => i.path),
    [''],
  );
});

test('GET params and query: strings only, a version of digits from 1, asOf "now" or an RFC 3339 time, nothing else', () => {
  const params = requestValidator(getOnlineFeaturesParams);
  assert.equal(params({ name: 'v', id: 'e1' }).ok, true);
  assert.equal(requestValidator(getFeatureViewParams)({ name: 'v' }).ok, true);
  const query = requestValidator(getOnlineFeaturesQuery);
  assert.equal(query({}).ok, true);
  assert.equal(query({ version: '12', asOf: 'now' }).ok, true);
  assert.equal(query({ asOf: '2026-01-01T10:00:00.000Z' }).ok, true);
  for (const version of ['0', '-1', '1.5', 'two', ['1', '2'], 1]) {
    assert.deepEqual(
      issuesOf(query({ version })).map((i) => i.path),
      ['/version'],
      JSON.stringify(version),
    );
  }
  assert.ok(issuesOf(query({ asOf: 'yesterday' })).every((i) => i.path === '/asOf'));
  assert.equal(query({ asOf: 'yesterday' }).ok, false);
  assert.deepEqual(issuesOf(query({ at: 'now' })), [{ path: '/at', message: 'is not a known key' }]);
});
