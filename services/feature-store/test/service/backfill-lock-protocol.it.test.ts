// BackfillLockProtocol against the REAL Postgres: one replica per backfill, catch-up passes that let materialization
// go on, and a final pass during which no record of the dataset is materialized.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { createPostgresDataSource } from '@mlops/storage';
import { BackfillLockProtocol } from '../../src/feature-views/backfill-feature-view/backfill-lock-protocol';
import { CatalogStore } from '../../src/infrastructure/catalog-store';
import { requireEnv, runId } from './support';

const schema = runId('fs_backfill_locks_');
let dataSource: DataSource;
let catalog: CatalogStore;
let protocol: BackfillLockProtocol;

before(async () => {
  dataSource = await createPostgresDataSource({ url: requireEnv('DATABASE_URL'), schema, poolSize: 4 });
  catalog = new CatalogStore(dataSource);
  protocol = new BackfillLockProtocol(dataSource, catalog, { catchUpRecords: 10, maxCatchUpPasses: 3 });
});

after(async () => {
  await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
  await dataSource.destroy();
});

/** Whether materialization of the dataset could take its (shared) lock right now. */
async function materializationCanProceed(dataset: string): Promise<boolean> {
  return dataSource.transaction(async (manager) => {
    await manager.query(`SET LOCAL lock_timeout = '200ms'`);
    return catalog.lockDatasetShared(manager, dataset).then(
      () => true,
      () => false,
    );
  });
}

test('a backfill another replica runs is left to it', async () => {
  const name = runId('view');
  let inner: boolean | undefined;
  const outer = await protocol.alone(name, 1, async () => {
    inner = await protocol.alone(name, 1, async () => assert.fail('ran twice'));
  });
  assert.deepEqual({ outer, inner }, { outer: true, inner: false });
});

test('another version of the same view is not kept out', async () => {
  const name = runId('view');
  let other: boolean | undefined;
  await protocol.alone(name, 1, async () => {
    other = await protocol.alone(name, 2, async () => undefined);
  });
  assert.equal(other, true);
});

test('a backfill can run again once the previous run ended', async () => {
  const name = runId('view');
  await protocol.alone(name, 1, async () => undefined);
  assert.equal(await protocol.alone(name, 1, async () => undefined), true);
});

test('catch-up passes go on while each finds many records, and each starts where the previous ended', async () => {
  const passes: Array<{ after: Date | null; upTo: Date }> = [];
  let finalAfter: Date | null | undefined;
  await protocol.inPasses(
    runId('dataset'),
    async (after, upTo) => {
      passes.push({ after, upTo });
      return passes.length === 1 ? 50 : 3;
    },
    async (_, after) => {
      finalAfter = after;
    },
  );
  assert.equal(passes.length, 2, 'the second pass found few records: the final pass follows');
  assert.equal(passes[0]!.after, null);
  assert.equal(passes[1]!.after, passes[0]!.upTo);
  assert.equal(finalAfter, passes[1]!.upTo);
});

test('catch-up passes stop at the configured maximum', async () => {
  let count = 0;
  await protocol.inPasses(
    runId('dataset'),
    async () => ((count += 1), 1_000),
    async () => undefined,
  );
  assert.equal(count, 3);
});

test('materialization goes on during catch-up passes', async () => {
  const dataset = runId('dataset');
  let during: boolean | undefined;
  await protocol.inPasses(
    dataset,
    async () => {
      during = await materializationCanProceed(dataset);
      return 0;
    },
    async () => undefined,
  );
  assert.equal(during, true);
});

test('no record of the dataset is materialized during the final pass', async () => {
  const dataset = runId('dataset');
  let during: boolean | undefined;
  await protocol.inPasses(
    dataset,
    async () => 0,
    async () => {
      during = await materializationCanProceed(dataset);
    },
  );
  assert.equal(during, false);
});
