// Helpers of the storage tests: a DataSource of its own schema on the real Postgres, and open transactions.
import type { DataSource, EntityManager } from 'typeorm';
import { databaseUrl, uid } from '@mlops/testing';
import { createPostgresDataSource } from '../src';

export { uid } from '@mlops/testing';

/** A fresh schema (dropped by `drop`). */
export async function testDataSource(
  prefix: string,
): Promise<{ dataSource: DataSource; schema: string; drop(): Promise<void> }> {
  const schema = uid(prefix).replace(/-/g, '_');
  const dataSource = await createPostgresDataSource({ url: databaseUrl(), schema, poolSize: 6 });
  return {
    dataSource,
    schema,
    drop: async () => {
      await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await dataSource.destroy();
    },
  };
}

/** A transaction left open until `end()` (which rolls it back), to hold its locks while the test looks. */
export async function openTransaction(
  dataSource: DataSource,
): Promise<{ manager: EntityManager; end(): Promise<void> }> {
  const runner = dataSource.createQueryRunner();
  await runner.startTransaction();
  return {
    manager: runner.manager,
    end: async () => {
      await runner.rollbackTransaction();
      await runner.release();
    },
  };
}

/** Whether a promise is still pending after `ms`. */
export async function stillPending(promise: Promise<unknown>, ms = 300): Promise<boolean> {
  const marker = Symbol('pending');
  const winner = await Promise.race([
    promise.then(() => undefined),
    new Promise((resolve) => setTimeout(() => resolve(marker), ms)),
  ]);
  return winner === marker;
}
