// Helpers of the platform tests; the ones every integration test shares come from @mlops/testing.
import { createPostgresDataSource } from '@mlops/storage';
import { TEST_ADMIN_TOKEN, databaseUrl, kafkaTestConnection } from '@mlops/testing';
import type { BootConfig, PlatformConfig } from '../src';

/** The platform keys of a probe service against the stack. */
export function probeConfig(): PlatformConfig & BootConfig {
  return {
    ...kafkaTestConnection(),
    DATABASE_URL: databaseUrl(),
    MAX_EVENT_BYTES: 100_000,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: 0,
    LOG_LEVEL: 'error',
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    AUTH_DISABLED: false,
    AUTH_METRICS_PUBLIC: true,
  };
}

/** Drops a probe's schema once its app (and its Postgres pool) is closed. */
export async function dropSchema(schema: string): Promise<void> {
  const dataSource = await createPostgresDataSource({ url: databaseUrl(), schema });
  try {
    await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await dataSource.destroy();
  }
}
