// AdvisoryLockScope against the REAL Postgres: a key only meets the same key of the same scope, in every variant.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { AdvisoryLockScope } from '../src';
import { openTransaction, stillPending, testDataSource, uid } from './support';

let dataSource: DataSource;
let drop: () => Promise<void>;

before(async () => {
  ({ dataSource, drop } = await testDataSource('storage_locks'));
});

after(async () => {
  await drop();
});

/** A scope no other test (nor another run of this one) uses. */
const scope = (purpose = 'things', service = uid('svc')) => new AdvisoryLockScope(service, purpose);

test('the same key in two purposes of one service does not block', async () => {
  const service = uid('svc');
  const holder = await openTransaction(dataSource);
  await scope('datasets', service).lockInTransaction(holder.manager, 'k');
  const other = await openTransaction(dataSource);
  try {
    assert.equal(await scope('views', service).tryLockInTransaction(other.manager, 'k'), true);
  } finally {
    await other.end();
    await holder.end();
  }
});

test('the same key and purpose in two services does not block', async () => {
  const holder = await openTransaction(dataSource);
  await scope('datasets').lockInTransaction(holder.manager, 'k');
  const other = await openTransaction(dataSource);
  try {
    assert.equal(await scope('datasets').tryLockInTransaction(other.manager, 'k'), true);
  } finally {
    await other.end();
    await holder.end();
  }
});

test('the same scope and key is refused to a second transaction', async () => {
  const locks = scope();
  const holder = await openTransaction(dataSource);
  await locks.lockInTransaction(holder.manager, 'k');
  const other = await openTransaction(dataSource);
  try {
    assert.equal(await locks.tryLockInTransaction(other.manager, 'k'), false);
  } finally {
    await other.end();
    await holder.end();
  }
});

test('a waiting transaction lock is granted when the holder transaction ends', async () => {
  const locks = scope();
  const holder = await openTransaction(dataSource);
  await locks.lockInTransaction(holder.manager, 'k');
  const other = await openTransaction(dataSource);
  try {
    const waiting = locks.lockInTransaction(other.manager, 'k');
    assert.equal(await stillPending(waiting), true, 'the second transaction waits');
    await holder.end();
    await waiting;
  } finally {
    await other.end();
  }
});

test('two shared transaction locks of one key coexist', async () => {
  const locks = scope();
  const holder = await openTransaction(dataSource);
  await locks.lockInTransaction(holder.manager, 'k', 'shared');
  const other = await openTransaction(dataSource);
  try {
    assert.equal(await locks.tryLockInTransaction(other.manager, 'k', 'shared'), true);
  } finally {
    await other.end();
    await holder.end();
  }
});

test('a shared transaction lock keeps the exclusive one out', async () => {
  const locks = scope();
  const holder = await openTransaction(dataSource);
  await locks.lockInTransaction(holder.manager, 'k', 'shared');
  const other = await openTransaction(dataSource);
  try {
    assert.equal(await locks.tryLockInTransaction(other.manager, 'k', 'exclusive'), false);
  } finally {
    await other.end();
    await holder.end();
  }
});

test('a transaction lock outside a transaction is refused', async () => {
  await assert.rejects(scope().lockInTransaction(dataSource.manager, 'k'), /inside a transaction/);
});

test('a session lock is held until released, across transactions', async () => {
  const locks = scope();
  const held = await locks.lockForSession(dataSource, 'k');
  try {
    assert.equal(await locks.tryLockForSession(dataSource, 'k'), undefined);
  } finally {
    await held.release();
  }
});

test('a released session lock can be taken again', async () => {
  const locks = scope();
  await (await locks.lockForSession(dataSource, 'k')).release();
  const again = await locks.tryLockForSession(dataSource, 'k');
  assert.ok(again, 'free after release');
  await again.release();
});

test('session and transaction locks of one scope and key exclude each other', async () => {
  const locks = scope();
  const held = await locks.lockForSession(dataSource, 'k');
  const other = await openTransaction(dataSource);
  try {
    assert.equal(await locks.tryLockInTransaction(other.manager, 'k'), false);
  } finally {
    await other.end();
    await held.release();
  }
});

test('the same key in two scopes does not block session locks', async () => {
  const held = await scope().lockForSession(dataSource, 'k');
  try {
    const other = await scope().tryLockForSession(dataSource, 'k');
    assert.ok(other, 'another scope is free');
    await other.release();
  } finally {
    await held.release();
  }
});

test('a scope needs a service and a purpose', () => {
  assert.throws(() => new AdvisoryLockScope('', 'x'), /service and a purpose/);
  assert.throws(() => new AdvisoryLockScope('a/b', 'x'), /service and a purpose/);
});
