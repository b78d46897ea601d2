import { type DynamicModule, Module } from '@nestjs/common';
import { ObservabilityModule } from '@mlops/observability';
import { ClickHouseModule, type PostgresOptions, PostgresModule } from '@mlops/storage';
import { messagingMigrations } from '../migrations';
import { MessagingModule } from './messaging.module';

/** The keys of a service's config the platform wiring reads (see serviceKeys/postgresKeys/clickhouseKeys). */
export interface PlatformConfig {
  readonly KAFKA_BROKERS: string[];
  readonly MAX_EVENT_BYTES: number;
  readonly DATABASE_URL: string;
  readonly CLICKHOUSE_URL?: string | undefined;
  readonly CLICKHOUSE_DATA_DIR?: string;
}

export interface PlatformModuleOptions {
  service: string;
  /** The Postgres schema the service owns; the inbox and outbox tables live in it. */
  pgSchema: string;
  config: PlatformConfig;
  entities?: PostgresOptions['entities'];
  migrations?: PostgresOptions['migrations'];
  /** The ClickHouse database, for a service that owns ClickHouse tables. */
  clickhouseDatabase?: string;
}

/** What every service stands on: health and metrics, Kafka, its Postgres schema, and its ClickHouse database if any. */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformModuleOptions): DynamicModule {
    const { service, config } = options;
    const imports: DynamicModule[] = [
      ObservabilityModule.forRoot({ service }),
      MessagingModule.forRoot({ service, brokers: config.KAFKA_BROKERS, maxEventBytes: config.MAX_EVENT_BYTES }),
      PostgresModule.forRoot({
        url: config.DATABASE_URL,
        schema: options.pgSchema,
        entities: options.entities ?? [],
        migrations: [...messagingMigrations, ...(options.migrations ?? [])],
        applicationName: service,
      }),
    ];
    if (options.clickhouseDatabase) {
      if (!config.CLICKHOUSE_DATA_DIR) throw new Error(`${service} owns ClickHouse tables but its config has no CLICKHOUSE_DATA_DIR`);
      imports.push(
        ClickHouseModule.forRoot({
          ...(config.CLICKHOUSE_URL ? { url: config.CLICKHOUSE_URL } : {}),
          dataDir: config.CLICKHOUSE_DATA_DIR,
          database: options.clickhouseDatabase,
        }),
      );
    }
    return { module: PlatformModule, imports, exports: imports };
  }
}
