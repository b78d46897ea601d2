import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotFormatError, encodeSnapshot, pointInTimeQuery } from '../../src/offline';
import type { PointInTimeRow } from '../../src/offline';

const row = (
  entityId: string,
  ms: number,
  features: Record<string, unknown> | null,
  label: unknown,
): PointInTimeRow => ({
  label_id: `l-${entityId}-${ms}`,
  entity_id: entityId,
  label_time_ms: String(ms),
  label_json: JSON.stringify(label),
  features: features === null ? null : JSON.stringify(features),
});

test('encodes NDJSON with entity, event time, sorted features, label; null for missing features', () => {
  const encoded = encodeSnapshot(
    [row('a', 0, { z: 1.5, b: true }, 1), row('b', 1000, null, 0), row('c', 2000, { z: 2 }, 1)],
    'y',
  );
  assert.equal(
    encoded.bytes.toString('utf8'),
    '{"entity_id":"a","event_time":"1970-01-01T00:00:00.000Z","b":true,"z":1.5,"y":1}\n' +
      '{"entity_id":"b","event_time":"1970-01-01T00:00:01.000Z","b":null,"z":null,"y":0}\n' +
      '{"entity_id":"c","event_time":"1970-01-01T00:00:02.000Z","b":null,"z":2,"y":1}\n',
  );
  assert.deepEqual(encoded.columns, [
    { name: 'entity_id', type: 'string', role: 'entity' },
    { name: 'event_time', type: 'string', role: 'event_time' },
    { name: 'b', type: 'boolean', role: 'feature' },
    { name: 'z', type: 'number', role: 'feature' },
    { name: 'y', type: 'number', role: 'label' },
  ]);
  assert.equal(encoded.rows, 3);
});

test('a feature mixing types is declared and written as string; an empty snapshot is zero bytes', () => {
  const encoded = encodeSnapshot([row('a', 0, { m: 1 }, 'x'), row('b', 0, { m: 'one' }, 'y')], 'label');
  assert.deepEqual(encoded.columns[2], { name: 'm', type: 'string', role: 'feature' });
  assert.match(encoded.bytes.toString('utf8'), /"m":"1".*\n.*"m":"one"/);
  const empty = encodeSnapshot([], 'label');
  assert.equal(empty.bytes.byteLength, 0);
  assert.equal(empty.rows, 0);
});

test('a feature named like a reserved column or an invalid name is refused', () => {
  assert.throws(() => encodeSnapshot([row('a', 0, { entity_id: 1 }, 1)], 'y'), SnapshotFormatError);
  assert.throws(() => encodeSnapshot([row('a', 0, { y: 1 }, 1)], 'y'), /collides with the label column/);
  assert.throws(() => encodeSnapshot([row('a', 0, { 'bad-name': 1 }, 1)], 'y'), /not a valid column name/);
});

test('the TTL condition appears only when a TTL is requested, and a bad window is refused', () => {
  const base = {
    featureView: { name: 'v', version: 1 },
    labels: { dataset: 'd', field: 'y' },
    timeRange: { start: '2025-01-01T00:00:00Z', end: '2025-02-01T00:00:00Z' },
  };
  assert.doesNotMatch(pointInTimeQuery('db', base).query, /toIntervalSecond/);
  const withTtl = pointInTimeQuery('db', { ...base, featureTtlSeconds: 60 });
  assert.match(withTtl.query, /f\.event_time > l\.label_time - toIntervalSecond\(\{ttl:UInt32\}\)/);
  assert.equal(withTtl.query_params.ttl, 60);
  assert.equal(withTtl.query_params.start, '2025-01-01 00:00:00.000');
  assert.throws(
    () => pointInTimeQuery('db', { ...base, timeRange: { start: base.timeRange.end, end: base.timeRange.start } }),
    /start must be before/,
  );
  assert.throws(() => pointInTimeQuery('db; DROP', base), /invalid ClickHouse database name/);
});
