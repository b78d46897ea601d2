// WriteBehind against the REAL Postgres: a transaction's states, vectors and outbox events are written once, just
// before it commits, and read back by its own handlers before that; offline rows reach the offline store once per
// committed transaction, never for a rolled-back one; a failed write rolls the transaction back (so its events
// are retried). The offline store is the one stand-in here: it records what would go to ClickHouse.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import { messagingMigrations, newEvent } from '@mlops/messaging';
import { createPostgresDataSource } from '@mlops/storage';
import { emptyAggregationState } from '../../src/domain';
import { featureStoreMigrations } from '../../src/infrastructure/migrations';
import { OnlineStore } from '../../src/infrastructure/online-store';
import { WriteBehind } from '../../src/infrastructure/write-behind';
import type { OfflineFeatureRow, OfflineFeatureStore, OfflineLabelRow, SourceRecordRow } from '../../src/offline';
import { requireEnv, runId } from './support';

const schema = runId('fs_write_behind_');
let dataSource: DataSource;
let online: OnlineStore;
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
  async appendSourceRecords(rows: readonly SourceRecordRow[]) {
    if (rows.length > 0) inserted.push(rows.map((r) => `source:${r.sourceEventId}`));
  },
} as unknown as OfflineFeatureStore;

const row = (id: string): OfflineFeatureRow => ({
  viewName: 'v',
  viewVersion: 1,
  entityId: 'e',
  eventTime: new Date(0),
  createdAt: new Date(0),
  features: { x: 1 },
  sourceEventId: id,
});
const MATERIALIZED = EventTypes.FeaturesMaterializedV1;
const materialized = (entityId: string) =>
  newEvent(MATERIALIZED, { ...exampleEventData(MATERIALIZED), entityId }, { source: 'urn:mlops:test' });

let writer: WriteBehind;

async function count(table: string): Promise<number> {
  const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM "${schema}".${table}`);
  return n;
}

before(async () => {
  dataSource = await createPostgresDataSource({
    url: requireEnv('DATABASE_URL'),
    schema,
    poolSize: 2,
    migrations: [...messagingMigrations, ...featureStoreMigrations],
  });
  await dataSource.query(`CREATE TABLE "${schema}".effects (id text)`);
  online = new OnlineStore(dataSource);
  writer = WriteBehind.attach(dataSource, online, fakeOffline, schema);
});

after(async () => {
  await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
  await dataSource.destroy();
});

test('one insert per committed transaction, none for a rolled-back one, and a failed insert rolls back', async () => {
  await dataSource.transaction(async (manager) => {
    writer.addFeatureRow(manager, row('a'));
    writer.addFeatureRow(manager, row('b'));
    writer.addLabelRow(manager, {
      dataset: 'd',
      entityId: 'e',
      eventTime: new Date(0),
      createdAt: new Date(0),
      record: {},
      sourceEventId: 'l',
    });
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
      writer.putState(manager, {
        viewName: 'v',
        viewVersion: 1,
        entityId: 'rolled-back',
        state: emptyAggregationState(),
        updatedAt: new Date(),
      });
      writer.addEvent(manager, materialized('rolled-back'));
      writer.addFeatureRow(manager, row('e'));
    }),
    /clickhouse is down/,
  );
  failNext = false;
  assert.equal(await count('effects'), 0, 'the Postgres effect rolled back with the failed insert');
  assert.equal(await count('aggregation_states'), 0, 'so did the pending state');
  assert.equal(await count('outbox'), 0, 'and the pending event');

  assert.throws(() => writer.addFeatureRow(dataSource.manager, row('f')), /within a Postgres transaction/);
});

test('states, vectors and events are written once at commit, and the transaction reads its own pending state', async () => {
  const first = emptyAggregationState();
  const reads: string[] = [];
  await dataSource.transaction(async (manager) => {
    const stored = await writer.stateForUpdate(manager, 'v', 1, 'e1');
    assert.deepEqual(stored, emptyAggregationState(), 'an entity without a stored state starts empty');
    writer.putState(manager, { viewName: 'v', viewVersion: 1, entityId: 'e1', state: first, updatedAt: new Date() });
    assert.equal(
      await writer.stateForUpdate(manager, 'v', 1, 'e1'),
      first,
      "the second record of an entity sees the first one's state",
    );
    for (const id of ['e1', 'e1', 'e2']) {
      writer.putVector(manager, {
        viewName: 'v',
        viewVersion: 1,
        entityId: id,
        features: { x: reads.length },
        eventTime: new Date(reads.length * 1000),
        sourceEventId: `s${reads.length}`,
        updatedAt: new Date(),
      });
      writer.addEvent(manager, materialized(id));
      reads.push(id);
    }
    assert.equal(await writer.memo(manager, 'k', async () => 'once'), 'once');
    assert.equal(await writer.memo(manager, 'k', async () => 'twice'), 'once', 'a memo is read once per transaction');
    assert.equal(await count('online_features'), 0, 'nothing is written before the commit');
  });
  assert.equal(await count('aggregation_states'), 1);
  const vectors: Array<{ entity_id: string; features: { x: number } }> = await dataSource.query(
    `SELECT entity_id, features FROM "${schema}".online_features ORDER BY entity_id`,
  );
  assert.deepEqual(
    vectors,
    [
      { entity_id: 'e1', features: { x: 1 } },
      { entity_id: 'e2', features: { x: 2 } },
    ],
    'the last vector of each entity wins',
  );
  const events: Array<{ key: string }> = await dataSource.query(`SELECT key FROM "${schema}".outbox ORDER BY id`);
  assert.deepEqual(
    events.map((e) => e.key),
    ['e1', 'e1', 'e2'].map((id) => materialized(id).partitionkey),
    'every event, in the order it was made',
  );
  await assert.rejects(
    dataSource.transaction(async (manager) =>
      writer.addEvent(manager, { ...materialized('e3'), data: { nonsense: true } as never }),
    ),
    (error: Error) => error.name === 'EventValidationError',
    'an invalid event fails the handler that made it, not the commit',
  );
});

test('states read ahead for a group are locked and answered without another read; missing ones start empty', async () => {
  const stored = { ...emptyAggregationState(), watermarkMs: 42 };
  await dataSource.transaction((manager) =>
    online.saveStates(manager, [
      { viewName: 'p', viewVersion: 1, entityId: 'has', state: stored, updatedAt: new Date() },
    ]),
  );
  await dataSource.transaction(async (manager) => {
    await writer.preloadStates(manager, [
      { viewName: 'p', viewVersion: 1, entityId: 'has' },
      { viewName: 'p', viewVersion: 1, entityId: 'none' },
    ]);
    // Another transaction cannot take the row meanwhile.
    await assert.rejects(
      dataSource.transaction((other) =>
        other.query(
          `SELECT 1 FROM "${schema}".aggregation_states WHERE view_name = 'p' AND entity_id = 'has' FOR UPDATE NOWAIT`,
        ),
      ),
      /could not obtain lock/,
    );
    assert.equal((await writer.stateForUpdate(manager, 'p', 1, 'has')).watermarkMs, 42);
    assert.deepEqual(await writer.stateForUpdate(manager, 'p', 1, 'none'), emptyAggregationState());
  });
});

test('the offline rows of transactions committing while an insert is in flight share the next insert', async () => {
  // A pool of its own: three transactions commit at once.
  const pooled = await createPostgresDataSource({ url: requireEnv('DATABASE_URL'), schema, poolSize: 4 });
  const calls: string[][] = [];
  let releaseFirst!: () => void;
  const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
  let firstStarted!: () => void;
  const started = new Promise<void>((resolve) => (firstStarted = resolve));
  const slowOffline = {
    async appendFeatureRows(rows: readonly OfflineFeatureRow[]) {
      calls.push(rows.map((r) => r.sourceEventId));
      if (calls.length === 1) {
        firstStarted();
        await firstHeld;
      }
    },
    appendLabelRows: async () => undefined,
    appendSourceRecords: async () => undefined,
  } as unknown as OfflineFeatureStore;
  const coalescing = WriteBehind.attach(pooled, new OnlineStore(pooled), slowOffline, schema);
  // Called in the same turn as the writer's own hook: once it counts three, the writer has queued all three.
  let committing = 0;
  pooled.subscribers.push({ beforeTransactionCommit: () => void committing++ });
  try {
    const commit = (id: string) => pooled.transaction(async (manager) => coalescing.addFeatureRow(manager, row(id)));
    const first = commit('first');
    await started;
    const later = Promise.all([commit('second'), commit('third')]);
    for (let waited = 0; committing < 3 && waited < 10_000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(committing, 3, 'both later transactions are committing');
    assert.equal(calls.length, 1, 'nothing more is inserted while the first insert is in flight');
    releaseFirst();
    await Promise.all([first, later]);
    assert.deepEqual(
      calls.map((c) => [...c].sort()),
      [['first'], ['second', 'third']],
    );
  } finally {
    releaseFirst();
    await pooled.destroy();
  }
});
