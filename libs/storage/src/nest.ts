import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HealthRegistry } from '@mlops/observability';
import { type ClickHouseClient, type ClickHouseOptions, createClickHouse } from './clickhouse';
import { type PostgresOptions, createPostgresDataSource } from './postgres';

export const POSTGRES = Symbol('POSTGRES');
export const CLICKHOUSE = Symbol('CLICKHOUSE');

@Injectable()
class PostgresLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly health: HealthRegistry,
  ) {}
  onModuleInit(): void {
    this.health.register({ name: 'postgres', check: async () => void (await this.dataSource.query('SELECT 1')) });
  }
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** The service's own Postgres schema through TypeORM, migrated at start. */
@Global()
@Module({})
export class PostgresModule {
  static forRoot(options: PostgresOptions): DynamicModule {
    return {
      module: PostgresModule,
      providers: [{ provide: POSTGRES, useFactory: () => createPostgresDataSource(options) }, PostgresLifecycle],
      exports: [POSTGRES],
    };
  }
}

@Injectable()
class ClickHouseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(CLICKHOUSE) private readonly client: ClickHouseClient,
    private readonly health: HealthRegistry,
  ) {}
  onModuleInit(): void {
    this.health.register({
      name: 'clickhouse',
      check: async () => {
        const result = await this.client.ping();
        if (!result.success) throw result.error;
      },
    });
  }
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

/** The service's own ClickHouse database: a server when a URL is given, else the embedded engine. */
@Global()
@Module({})
export class ClickHouseModule {
  static forRoot(options: ClickHouseOptions): DynamicModule {
    return {
      module: ClickHouseModule,
      providers: [{ provide: CLICKHOUSE, useFactory: () => createClickHouse(options) }, ClickHouseLifecycle],
      exports: [CLICKHOUSE],
    };
  }
}
