// The SQL helpers against the REAL Postgres: typed rows whatever the statement, tables named one way.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { type Tables, execute, query, queryOne, schemaOf, tablesIn } from '../src';
import { openTransaction, testDataSource } from './support';

let dataSource: DataSource;
let drop: () => Promise<void>;
let tables: Tables<'items'>;

before(async () => {
  let schema: string;
  ({ dataSource, drop, schema } = await testDataSource('storage_sql'));
  tables = tablesIn(schema, ['items']);
  await dataSource.query(`CREATE TABLE ${tables.items} (id text PRIMARY KEY, n integer NOT NULL)`);
});

after(async () => {
  await drop();
});

interface ItemRow {
  id: string;
  n: number;
}

test('tablesIn quotes and qualifies every table', () => {
  assert.deepEqual(tablesIn('fs', ['datasets', 'feature_views']), {
    datasets: '"fs"."datasets"',
    feature_views: '"fs"."feature_views"',
  });
});

test('tablesIn refuses a name that is not a plain identifier', () => {
  assert.throws(() => tablesIn('fs', ['x"; DROP TABLE y; --']), /invalid SQL identifier/);
});

test('schemaOf names the schema of the DataSource and of its managers', async () => {
  const expected = tables.items.split('.')[0]!.replace(/"/g, '');
  assert.equal(schemaOf(dataSource), expected);
  assert.equal(schemaOf(dataSource.manager), expected);
});

test('query answers a DELETE ... RETURNING with its rows', async () => {
  await query(dataSource.manager, `INSERT INTO ${tables.items} (id, n) VALUES ('d1', 1), ('d2', 2)`);
  const gone = await query<ItemRow>(
    dataSource.manager,
    `DELETE FROM ${tables.items} WHERE id LIKE 'd%' RETURNING id, n`,
  );
  assert.deepEqual(
    gone.sort((a, b) => a.n - b.n),
    [
      { id: 'd1', n: 1 },
      { id: 'd2', n: 2 },
    ],
  );
});

test('query answers an UPDATE ... RETURNING with its rows', async () => {
  await query(dataSource.manager, `INSERT INTO ${tables.items} (id, n) VALUES ('u1', 1)`);
  const changed = await query<ItemRow>(
    dataSource.manager,
    `UPDATE ${tables.items} SET n = n + 1 WHERE id = $1 RETURNING id, n`,
    ['u1'],
  );
  assert.deepEqual(changed, [{ id: 'u1', n: 2 }]);
});

test('execute answers how many rows a statement touched', async () => {
  await query(dataSource.manager, `INSERT INTO ${tables.items} (id, n) VALUES ('e1', 1), ('e2', 1), ('e3', 2)`);
  assert.equal(await execute(dataSource.manager, `UPDATE ${tables.items} SET n = 0 WHERE id LIKE 'e%' AND n = 1`), 2);
});

test('queryOne answers the first row, or undefined', async () => {
  await query(dataSource.manager, `INSERT INTO ${tables.items} (id, n) VALUES ('o1', 7)`);
  assert.deepEqual(
    await queryOne<ItemRow>(dataSource.manager, `SELECT id, n FROM ${tables.items} WHERE id = $1`, ['o1']),
    { id: 'o1', n: 7 },
  );
  assert.equal(
    await queryOne<ItemRow>(dataSource.manager, `SELECT id, n FROM ${tables.items} WHERE id = $1`, ['none']),
    undefined,
  );
});

test('query runs in the transaction of its manager', async () => {
  const tx = await openTransaction(dataSource);
  try {
    await query(tx.manager, `INSERT INTO ${tables.items} (id, n) VALUES ('t1', 1)`);
    assert.equal(
      (await query<ItemRow>(tx.manager, `SELECT id, n FROM ${tables.items} WHERE id = 't1'`)).length,
      1,
      'seen inside',
    );
    assert.equal(
      (await query<ItemRow>(dataSource.manager, `SELECT id, n FROM ${tables.items} WHERE id = 't1'`)).length,
      0,
      'not outside',
    );
  } finally {
    await tx.end();
  }
});

test('a table named without its schema is not found: there is no search_path to fall back on', async () => {
  await assert.rejects(query(dataSource.manager, 'SELECT id FROM items'), /relation "items" does not exist/);
});
