import { Client } from 'pg';
import { DataSource, type EntitySchema, type MigrationInterface } from 'typeorm';

export interface PostgresOptions {
  url: string;
  /** The Postgres schema this service owns (database per service, schema per service locally). */
  schema: string;
  entities?: Array<Function | string | EntitySchema>;
  migrations?: Array<new () => MigrationInterface>;
  poolSize?: number;
  applicationName?: string;
}

/** A TypeORM DataSource confined to one schema, created if missing, migrations applied at start. */
export async function createPostgresDataSource(options: PostgresOptions): Promise<DataSource> {
  assertIdentifier(options.schema);
  await ensureSchema(options.url, options.schema);
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    applicationName: options.applicationName ?? options.schema,
    extra: { max: options.poolSize ?? 10, options: `-c search_path=${options.schema}` },
  });
  await dataSource.initialize();
  await runMigrationsExclusively(dataSource, options.schema);
  return dataSource;
}

/** Replicas starting together serialise their migrations on an advisory lock keyed by schema. */
async function runMigrationsExclusively(dataSource: DataSource, schema: string): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${schema}`]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`]).catch(() => undefined);
    await runner.release();
  }
}

async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Two replicas racing on CREATE SCHEMA: the loser sees a unique violation, and the schema exists.
    if ((error as { code?: string }).code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

export function assertIdentifier(name: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid SQL identifier "${name}"`);
}

/** The schema a migration runs in: the one its DataSource was created for (createPostgresDataSource). */
export function migrationSchema(queryRunner: { connection: { options: object } }): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema;
  if (!schema) throw new Error('these tables need a DataSource with a schema (createPostgresDataSource sets one)');
  assertIdentifier(schema);
  return schema;
}
