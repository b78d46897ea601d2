// BackfillWriter: offline rows leave in batches of the configured size, and the online writes in bounded statements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from 'typeorm';
import { emptyAggregationState } from '../../src/domain';
import { BackfillWriter } from '../../src/infrastructure/backfill-writer';
import type { OnlineStore, OnlineVector, StateRow } from '../../src/infrastructure/online-store';
import type { OfflineFeatureRow, OfflineFeatureStore } from '../../src/offline';

/** Records each call as the number of rows it carried. */
function recorders() {
  const inserts: number[] = [];
  const states: number[] = [];
  const vectors: number[] = [];
  const offline = {
    appendFeatureRows: async (rows: readonly OfflineFeatureRow[]) => void inserts.push(rows.length),
  } as unknown as OfflineFeatureStore;
  const online = {
    saveStates: async (_: EntityManager, rows: readonly StateRow[]) => void states.push(rows.length),
    saveVectors: async (_: EntityManager, rows: readonly OnlineVector[]) => void vectors.push(rows.length),
  } as unknown as OnlineStore;
  return { inserts, states, vectors, offline, online };
}

const row = (i: number): OfflineFeatureRow => ({
  viewName: 'v',
  viewVersion: 1,
  entityId: `e${i}`,
  eventTime: new Date(0),
  createdAt: new Date(0),
  features: {},
  sourceEventId: `s${i}`,
});
const state = (i: number): StateRow => ({
  viewName: 'v',
  viewVersion: 1,
  entityId: `e${i}`,
  state: emptyAggregationState(),
  updatedAt: new Date(0),
});
const vector = (i: number): OnlineVector => ({
  viewName: 'v',
  viewVersion: 1,
  entityId: `e${i}`,
  features: {},
  eventTime: new Date(0),
  sourceEventId: `s${i}`,
  updatedAt: new Date(0),
});

test('offline rows are inserted a full batch at a time, the rest when flushed', async () => {
  const { inserts, online, offline } = recorders();
  const writer = new BackfillWriter(online, offline, 'unused', { rowsPerInsert: 3, rowsPerStatement: 10 });
  for (let i = 0; i < 7; i++) await writer.addRow(row(i));
  assert.deepEqual(inserts, [3, 3], 'two full batches, one row kept');
  await writer.flushRows();
  assert.deepEqual(inserts, [3, 3, 1]);
});

test('flushing with no row kept inserts nothing', async () => {
  const { inserts, online, offline } = recorders();
  await new BackfillWriter(online, offline, 'unused', { rowsPerInsert: 3, rowsPerStatement: 10 }).flushRows();
  assert.deepEqual(inserts, []);
});

test('states and vectors are saved in statements of at most rowsPerStatement rows', async () => {
  const { states, vectors, online, offline } = recorders();
  const writer = new BackfillWriter(online, offline, 'unused', { rowsPerInsert: 3, rowsPerStatement: 2 });
  const manager = {} as EntityManager;
  await writer.writeOnline(manager, { states: [0, 1, 2, 3, 4].map(state), vectors: [0, 1].map(vector), events: [] });
  assert.deepEqual({ states, vectors }, { states: [2, 2, 1], vectors: [2] });
});
