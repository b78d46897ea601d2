import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule, messagingMigrations } from '@mlops/messaging';
import { ObservabilityModule } from '@mlops/observability';
import { ClickHouseModule, PostgresModule } from '@mlops/storage';
import type { MonitorConfig } from './config';

export const SERVICE = 'monitor';
export const PG_SCHEMA = 'monitor';

@Module({})
export class AppModule {
  static forRoot(config: MonitorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ObservabilityModule.forRoot({ service: SERVICE }),
        MessagingModule.forRoot({ service: SERVICE, brokers: config.KAFKA_BROKERS, maxEventBytes: config.MAX_EVENT_BYTES }),
        PostgresModule.forRoot({ url: config.DATABASE_URL, schema: PG_SCHEMA, migrations: [...messagingMigrations], applicationName: SERVICE }),
        ClickHouseModule.forRoot({ ...(config.CLICKHOUSE_URL ? { url: config.CLICKHOUSE_URL } : {}), dataDir: config.CLICKHOUSE_DATA_DIR, database: 'monitor' }),
      ],
    };
  }
}
