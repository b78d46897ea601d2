import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClickHouseClient } from '@mlops/storage';
import { OfflineFeatureStore, toClickHouseTime } from '../../src/offline';

/** Records inserts instead of talking to ClickHouse: these tests are about what gets written. */
function recordingClient(): { client: ClickHouseClient; inserts: Array<{ table: string; values: unknown[] }> } {
  const inserts: Array<{ table: string; values: unknown[] }> = [];
  const client = {
    insert: async (params: { table: string; values: unknown[] }) => void inserts.push(params),
  } as unknown as ClickHouseClient;
  return { client, inserts };
}

const row = {
  viewName: 'v',
  viewVersion: 1,
  entityId: 'e',
  eventTime: '2025-03-10T01:02:03.004+01:00',
  createdAt: new Date('2025-03-10T00:05:00Z'),
  sourceEventId: 's',
};

test('feature rows become UTC DateTime64 strings, JSON features and a numeric map (booleans as 0/1)', async () => {
  const { client, inserts } = recordingClient();
  await new OfflineFeatureStore(client, 'fs').appendFeatureRows([
    { ...row, features: { a: 1.5, b: true, c: 'x', d: null } },
  ]);
  assert.deepEqual(inserts, [
    {
      table: 'fs.offline_feature_rows',
      format: 'JSONEachRow',
      values: [
        {
          view_name: 'v',
          view_version: 1,
          entity_id: 'e',
          event_time: '2025-03-10 00:02:03.004',
          created_at: '2025-03-10 00:05:00.000',
          features: '{"a":1.5,"b":true,"c":"x","d":null}',
          numeric_features: { a: 1.5, b: 1 },
          source_event_id: 's',
        },
      ],
    },
  ]);
});

test('bad rows are refused before anything is written', async () => {
  const { client, inserts } = recordingClient();
  const store = new OfflineFeatureStore(client, 'fs');
  await assert.rejects(store.appendFeatureRows([{ ...row, features: { a: Number.NaN } }]), /not finite/);
  await assert.rejects(
    store.appendFeatureRows([{ ...row, features: { a: [1] as unknown as number } }]),
    /not a number, string, boolean or null/,
  );
  await assert.rejects(store.appendFeatureRows([{ ...row, viewVersion: 0, features: {} }]), /view version/);
  await assert.rejects(store.appendFeatureRows([{ ...row, eventTime: 'yesterday', features: {} }]), /invalid time/);
  assert.equal(inserts.length, 0);
  assert.throws(() => new OfflineFeatureStore(client, 'fs; DROP TABLE x'), /invalid ClickHouse database name/);
  assert.equal(toClickHouseTime('2025-01-01T00:00:00Z'), '2025-01-01 00:00:00.000');
});
