import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type JsonObject,
  type SourceDataset,
  computeFeatures,
  parseDuration,
  validateFeatureView,
} from '../../src/domain';
import { compile, customerActivity } from './fixtures';

describe('durations out of range', () => {
  test('1e308 seconds and P99999999999999999999D are refused with the reason, not stored as Infinity', () => {
    for (const input of [1e308, 'P99999999999999999999D', '99999999999999999999d', 'PT1e400S', 1e12]) {
      const parsed = parseDuration(input);
      assert.ok(!parsed.ok, String(input));
    }
    assert.match((parseDuration(1e308) as { error: string }).error, /longer than the longest allowed/);
    assert.deepEqual(parseDuration('P3650D'), { ok: true, value: 3650 * 86_400_000 });
  });

  function issuesOf(overrides: Record<string, unknown>): Array<{ path: string; message: string }> {
    const result = validateFeatureView(
      {
        name: 'bounded',
        version: 1,
        source: { dataset: 'customer_activity' },
        ttl: 'P7D',
        features: [{ kind: 'field', name: 'tenure', field: 'tenure_days' }],
        ...overrides,
      } as Parameters<typeof validateFeatureView>[0],
      customerActivity,
    );
    return result.ok ? [] : result.error;
  }

  test('a TTL over 10 years is refused; 10 years is accepted', () => {
    assert.match(issuesOf({ ttl: 'P3651D' }).find((i) => i.path === '/ttl')?.message ?? '', /longer than 10 years/);
    assert.deepEqual(issuesOf({ ttl: 'P3650D' }), []);
    assert.ok(issuesOf({ ttl: 1e308 }).some((i) => i.path === '/ttl'));
  });

  test('a window over 366 days or out of any range is refused', () => {
    const aggregate = (window: unknown) => ({
      features: [{ kind: 'aggregate', name: 'n', field: 'amount', function: 'count', window }],
    });
    assert.ok(issuesOf(aggregate('P367D')).some((i) => i.path === '/features/0/window'));
    assert.ok(issuesOf(aggregate('P99999999999999999999D')).some((i) => i.path === '/features/0/window'));
    assert.deepEqual(issuesOf(aggregate('P366D')), []);
  });
});

describe('fields named like Object.prototype members', () => {
  const protoDataset: SourceDataset = {
    name: 'proto',
    entityKeyField: 'id',
    eventTimeField: 'at',
    sensitiveFields: [],
    recordSchema: JSON.parse(
      '{"type":"object","properties":{"id":{"type":"string"},"at":{"type":"string"},' +
        '"constructor":{"type":"number"},"toString":{"type":"number"},"__proto__":{"type":"number"},' +
        '"hasOwnProperty":{"type":"string"}}}',
    ) as JsonObject,
  };
  const view = compile(
    {
      name: 'proto_view',
      version: 1,
      source: { dataset: 'proto' },
      ttl: 'P1D',
      features: [
        { kind: 'field', name: 'constructor', field: 'constructor' },
        { kind: 'field', name: 'to_string', field: 'toString' },
        { kind: 'field', name: 'proto', field: '__proto__' },
        { kind: 'field', name: 'has_own', field: 'hasOwnProperty' },
        { kind: 'aggregate', name: 'proto_sum', field: '__proto__', function: 'sum', window: '1h' },
      ],
    },
    protoDataset,
  );

  test('features are computed from them when present', () => {
    const fields = JSON.parse(
      '{"id":"p","at":"2025-11-20T08:00:00Z","constructor":1,"toString":2,"__proto__":3,"hasOwnProperty":"x"}',
    ) as JsonObject;
    const result = computeFeatures(view, { id: 'r1', eventTime: '2025-11-20T08:00:00Z', fields });
    assert.ok(result.ok, result.ok ? '' : result.error);
    assert.equal(
      JSON.stringify(result.value.features),
      '{"constructor":1,"to_string":2,"proto":3,"has_own":"x","proto_sum":3}',
    );
  });

  test('absent, they are null, never the inherited functions', () => {
    const result = computeFeatures(view, {
      id: 'r2',
      eventTime: '2025-11-20T08:00:00Z',
      fields: { id: 'p', at: '2025-11-20T08:00:00Z' },
    });
    assert.ok(result.ok);
    assert.equal(
      JSON.stringify(result.value.features),
      '{"constructor":null,"to_string":null,"proto":null,"has_own":null,"proto_sum":0}',
    );
  });
});
