// The export file format and query: known answers, no database.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotFormatError } from '../../src/offline/snapshot-format';
import { encodeExport, rangeExportQuery } from '../../src/offline/range-export';

const row = (entity: string, ms: number, features: Record<string, unknown>) => ({
  entity_id: entity,
  event_ms: String(ms),
  features: JSON.stringify(features),
});

describe('encodeExport', () => {
  it('writes entity, event time and the features in the given order, one line per row, missing ones null', () => {
    const encoded = encodeExport(
      [
        row('a', Date.UTC(2025, 2, 1, 10), { plan: 'basic', tenure: 3 }),
        row('b', Date.UTC(2025, 2, 1, 11, 0, 0, 5), { tenure: 4 }),
      ],
      ['tenure', 'plan', 'spend'],
    );
    assert.equal(encoded.rows, 2);
    assert.equal(
      encoded.bytes.toString('utf8'),
      '{"entity_id":"a","event_time":"2025-03-01T10:00:00.000Z","tenure":3,"plan":"basic","spend":null}\n' +
        '{"entity_id":"b","event_time":"2025-03-01T11:00:00.005Z","tenure":4,"plan":null,"spend":null}\n',
    );
    assert.deepEqual(encoded.columns, [
      { name: 'entity_id', type: 'string', role: 'entity' },
      { name: 'event_time', type: 'string', role: 'event_time' },
      { name: 'tenure', type: 'number', role: 'feature' },
      { name: 'plan', type: 'string', role: 'feature' },
      { name: 'spend', type: 'number', role: 'feature' },
    ]);
  });

  it('writes a feature whose values mix types as strings, and booleans as booleans', () => {
    const encoded = encodeExport(
      [row('a', 0, { mixed: 1, flag: true }), row('b', 1, { mixed: 'x', flag: false })],
      ['mixed', 'flag'],
    );
    assert.deepEqual(
      encoded.columns.slice(2).map((c) => c.type),
      ['string', 'boolean'],
    );
    assert.match(encoded.bytes.toString('utf8'), /"mixed":"1","flag":true/);
  });

  it('is 0 bytes without rows, with the columns still named', () => {
    const encoded = encodeExport([], ['tenure']);
    assert.equal(encoded.bytes.length, 0);
    assert.equal(encoded.rows, 0);
    assert.equal(encoded.columns.length, 3);
  });

  it('refuses a feature named like the entity or event-time column', () => {
    assert.throws(() => encodeExport([], ['event_time']), SnapshotFormatError);
  });
});

describe('rangeExportQuery', () => {
  it('reads FINAL rows of the view version with start <= event_time < end, in a stable order', () => {
    const { query, query_params } = rangeExportQuery('feature_store', {
      view: { name: 'v', version: 2 },
      features: [],
      timeRange: { start: '2025-03-01T00:00:00Z', end: '2025-03-02T00:00:00.5Z' },
    });
    assert.match(query, /offline_feature_rows FINAL/);
    assert.match(
      query,
      /event_time >= \{start:DateTime64\(3, 'UTC'\)\} AND event_time < \{end:DateTime64\(3, 'UTC'\)\}/,
    );
    assert.match(query, /ORDER BY entity_id, event_time, source_event_id/);
    assert.deepEqual(query_params, {
      view: 'v',
      version: 2,
      start: '2025-03-01 00:00:00.000',
      end: '2025-03-02 00:00:00.500',
    });
  });
});
