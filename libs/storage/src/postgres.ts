import { Client } from 'pg';
import { Logger } from '@nestjs/common';
import { DataSource, type Logger as TypeOrmLogger, type MigrationInterface } from 'typeorm';
import { AdvisoryLockScope } from './advisory-lock';
import { assertIdentifier } from './sql';

export interface PostgresOptions {
  url: string;
  /** The Postgres schema this service owns (database per service, schema per service locally). */
  schema: string;
  migrations?: Array<new () => MigrationInterface>;
  poolSize?: number;
  applicationName?: string;
}

/**
 * A TypeORM DataSource for one schema, created if missing, migrations applied at start. No search_path:
 * every query names its tables "schema"."table" (see tablesIn), so a bare table name fails loudly.
 */
export async function createPostgresDataSource(options: PostgresOptions): Promise<DataSource> {
  assertIdentifier(options.schema);
  await ensureSchema(options.url, options.schema);
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    // Tables are declared by migrations only and reached through typed SQL: no entities.
    entities: [],
    migrations: options.migrations ?? [],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Our logger: a failing query is logged with its statement, never its parameters (they carry record values).
    logging: ['error', 'warn'],
    logger: new ParameterFreeQueryLogger(new Logger(`postgres:${options.schema}`)),
    applicationName: options.applicationName ?? options.schema,
    extra: { max: options.poolSize ?? 10 },
  });
  await dataSource.initialize();
  await runMigrationsExclusively(dataSource, options.schema);
  return dataSource;
}

const MIGRATIONS = new AdvisoryLockScope('storage', 'migrations');

/** Replicas starting together serialise their migrations on an advisory lock keyed by schema. */
async function runMigrationsExclusively(dataSource: DataSource, schema: string): Promise<void> {
  const lock = await MIGRATIONS.lockForSession(dataSource, schema);
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lock.release();
  }
}

async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    // A service role owns its schema but may not create schemas (CREATE SCHEMA checks that even when it exists).
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Two replicas racing on CREATE SCHEMA: the loser sees a unique violation, and the schema exists.
    if ((error as { code?: string }).code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

/** The schema a migration runs in: the one its DataSource was created for (createPostgresDataSource). */
export function migrationSchema(queryRunner: { connection: { options: object } }): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema;
  if (!schema) throw new Error('these tables need a DataSource with a schema (createPostgresDataSource sets one)');
  assertIdentifier(schema);
  return schema;
}

/** The sink of query logs (a Nest Logger). */
export interface QueryLogSink {
  error(message: string): void;
  warn(message: string): void;
}

const MAX_LOGGED_STATEMENT = 2_000;

/**
 * TypeORM's query logger without parameters: a failing query logs its error (code, message) and its statement,
 * whose values are placeholders ($1, $2...). Messages of data exceptions (class 22, e.g. `invalid input syntax for
 * type integer: "abc"`) quote the offending value: their quoted parts are elided.
 */
export class ParameterFreeQueryLogger implements TypeOrmLogger {
  constructor(private readonly sink: QueryLogSink) {}

  logQuery(): void {}

  /** The parameters are in the signature only to say they are ignored. */
  logQueryError(error: string | Error, query: string, _parameters?: readonly unknown[]): void {
    this.sink.error(`query failed: ${describeQueryError(error)}; statement: ${statementOf(query)}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.sink.warn(`slow query (${time} ms): ${statementOf(query)}`);
  }

  logSchemaBuild(): void {}

  logMigration(): void {}

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.sink.warn(String(message));
  }
}

function statementOf(query: string): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_LOGGED_STATEMENT ? `${flat.slice(0, MAX_LOGGED_STATEMENT)}...` : flat;
}

/** An error's code and message, with the values a data exception quotes elided. */
export function describeQueryError(error: string | Error): string {
  if (typeof error === 'string') return error.replace(/"[^"]*"/g, '"..."');
  const code = (error as { code?: unknown }).code;
  const dataException = typeof code === 'string' && code.startsWith('22');
  const message = dataException ? error.message.replace(/"[^"]*"/g, '"..."') : error.message;
  return typeof code === 'string' ? `${code} ${message}` : message;
}
