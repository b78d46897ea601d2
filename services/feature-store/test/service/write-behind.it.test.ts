// OfflineWriteBehind against the REAL Postgres: rows reach the offline store once per committed transaction,
// never for a rolled-back one, and a failed insert rolls the transaction back (so its events are retried).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { createPostgresDataSource } from '@mlops/storage';
import { OfflineWriteBehind } from '../../src/infrastructure/offline-write-behind';
import type { OfflineFeatureRow, OfflineFeatureStore, OfflineLabelRow } from '../../src/offline';
import { requireEnv, runId } from './support';

const schema = runId('fs_write_behind_');
let dataSource: DataSource;
const inserted: string[][] = [];
let failNext = false;

/** Records what would go to ClickHouse; fails on demand. */
const fakeOffline = {
  async appendFeatureRows(rows: readonly OfflineFeatureRow[]) {
    if (failNext) throw new Error('clickhouse is down');
    if (rows.length > 0) inserted.push(rows.map((r) => r.sourceEventId));
  },
  async appendLabelRows(rows: readonly OfflineLabelRow[]) {
    if (rows.length > 0) inserted.push(rows.map((r) => `label:${r.sourceEventId}`));
  },
} as unknown as OfflineFeatureStore;

const row = (id: string): OfflineFeatureRow => ({ viewName: 'v', viewVersion: 1, entityId: 'e', eventTime: new Date(0), createdAt: new Date(0), features: { x: 1 }, sourceEventId: id });

let writer: OfflineWriteBehind;

before(async () => {
  dataSource = await createPostgresDataSource({ url: requireEnv('DATABASE_URL'), schema, poolSize: 2 });
  await dataSource.query(`CREATE TABLE "${schema}".effects (id text)`);
  writer = OfflineWriteBehind.attach(dataSource, fakeOffline);
});

after(async () => {
  await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
  await dataSource.destroy();
});

test('one insert per committed transaction, none for a rolled-back one, and a failed insert rolls back', async () => {
  await dataSource.transaction(async (manager) => {
    writer.addFeatureRow(manager, row('a'));
    writer.addFeatureRow(manager, row('b'));
    writer.addLabelRow(manager, { dataset: 'd', entityId: 'e', eventTime: new Date(0), createdAt: new Date(0), record: {}, sourceEventId: 'l' });
    assert.deepEqual(inserted, [], 'nothing is written before the commit');
  });
  assert.deepEqual(inserted, [['a', 'b'], ['label:l']]);

  await assert.rejects(
    dataSource.transaction(async (manager) => {
      writer.addFeatureRow(manager, row('c'));
      throw new Error('handler failed');
    }),
    /handler failed/,
  );
  await dataSource.transaction(async (manager) => writer.addFeatureRow(manager, row('d')));
  assert.deepEqual(inserted, [['a', 'b'], ['label:l'], ['d']], 'the rolled-back row is gone');

  failNext = true;
  await assert.rejects(
    dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO "${schema}".effects (id) VALUES ('e')`);
      writer.addFeatureRow(manager, row('e'));
    }),
    /clickhouse is down/,
  );
  failNext = false;
  const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM "${schema}".effects`);
  assert.equal(n, 0, 'the Postgres effect rolled back with the failed insert');

  assert.throws(() => writer.addFeatureRow(dataSource.manager, row('f')), /within a Postgres transaction/);
});
