import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * SQL-first storage: a table is declared once, by the migration that creates it; stores reach it through
 * `query`/`execute` with typed rows and name it through a `tables` object ("schema"."table", never a bare
 * name resolved by search_path). TypeORM is the connection, the transactions and the migration runner.
 */

/** Each table of a service as a quoted, schema-qualified SQL identifier. */
export type Tables<Name extends string> = { readonly [N in Name]: string };

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function assertIdentifier(name: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`invalid SQL identifier "${name}"`);
}

/** The service's tables in `schema`: `tablesIn('ingestion', ['accepted_records']).accepted_records` is `"ingestion"."accepted_records"`. */
export function tablesIn<const Name extends string>(schema: string, names: readonly Name[]): Tables<Name> {
  assertIdentifier(schema);
  const tables: Record<string, string> = {};
  for (const name of names) {
    assertIdentifier(name);
    tables[name] = `"${schema}"."${name}"`;
  }
  return tables as Tables<Name>;
}

/** The schema a DataSource (or one of its managers) is confined to: the one createPostgresDataSource was given. */
export function schemaOf(source: DataSource | EntityManager): string {
  const options = ('connection' in source ? source.connection : source).options as { schema?: string };
  if (!options.schema) throw new Error('this DataSource has no schema: create it with createPostgresDataSource');
  assertIdentifier(options.schema);
  return options.schema;
}

/** The rows a statement returns (SELECT, or INSERT/UPDATE/DELETE ... RETURNING), typed by the caller. */
export async function query<Row>(manager: EntityManager, sql: string, params: readonly unknown[] = []): Promise<Row[]> {
  return ((await run(manager, sql, params)).records ?? []) as Row[];
}

/** The first row a statement returns, or undefined. */
export async function queryOne<Row>(
  manager: EntityManager,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Row | undefined> {
  return (await query<Row>(manager, sql, params))[0];
}

/** Runs a statement for its effect; returns how many rows it touched. */
export async function execute(manager: EntityManager, sql: string, params: readonly unknown[] = []): Promise<number> {
  return (await run(manager, sql, params)).affected ?? 0;
}

/**
 * Through the query runner's structured result: EntityManager.query answers an UPDATE or DELETE (RETURNING or
 * not) with `[rows, count]` and anything else with `rows`, which no caller should have to tell apart.
 */
async function run(
  manager: EntityManager,
  sql: string,
  params: readonly unknown[],
): Promise<{ records?: unknown[]; affected?: number }> {
  const own: QueryRunner | undefined = manager.queryRunner;
  if (own?.isReleased) throw new Error('this EntityManager belongs to a transaction that has ended');
  const runner = own ?? manager.connection.createQueryRunner();
  try {
    return await runner.query(sql, [...params], true);
  } finally {
    if (!own) await runner.release();
  }
}
