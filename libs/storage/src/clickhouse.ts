import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';

export interface ClickHouseOptions {
  /** A ClickHouse server (http[s]://user:pass@host:8123); when absent the embedded chdb engine is used. */
  url?: string;
  /** Embedded mode: the data directory this process owns (one engine per process). */
  dataDir: string;
  /** Database the service owns; created when missing. */
  database: string;
}

export type { ClickHouseClient };

/** Same client API in both modes: a server over HTTP, or the chdb engine in this process. */
export async function createClickHouse(options: ClickHouseOptions): Promise<ClickHouseClient> {
  let client: ClickHouseClient;
  if (options.url) {
    client = createClient({ url: options.url, request_timeout: 60_000 });
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    // chdb/connection is loaded only in embedded mode: production images never load the 500 MB engine.
    const { createChdbConnection } = await import('chdb/connection');
    const connection = createChdbConnection({ path: options.dataDir });
    type Connection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;
    client = createClient({ connection: connection as unknown as Connection });
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.database))
    throw new Error(`invalid ClickHouse database name "${options.database}"`);
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${options.database}` });
  return client;
}

export function describeClickHouse(options: Pick<ClickHouseOptions, 'url' | 'dataDir'>): string {
  return options.url ? `server ${new URL(options.url).host}` : `embedded chdb at ${options.dataDir}`;
}
