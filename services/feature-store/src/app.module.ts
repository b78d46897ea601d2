import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule, messagingMigrations } from '@mlops/messaging';
import { ObservabilityModule } from '@mlops/observability';
import { ClickHouseModule, PostgresModule } from '@mlops/storage';
import type { FeatureStoreConfig } from './config';

export const SERVICE = 'feature-store';
export const PG_SCHEMA = 'feature_store';

@Module({})
export class AppModule {
  static forRoot(config: FeatureStoreConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ObservabilityModule.forRoot({ service: SERVICE }),
        MessagingModule.forRoot({ service: SERVICE, brokers: config.KAFKA_BROKERS, maxEventBytes: config.MAX_EVENT_BYTES }),
        PostgresModule.forRoot({ url: config.DATABASE_URL, schema: PG_SCHEMA, migrations: [...messagingMigrations], applicationName: SERVICE }),
        ClickHouseModule.forRoot({ ...(config.CLICKHOUSE_URL ? { url: config.CLICKHOUSE_URL } : {}), dataDir: config.CLICKHOUSE_DATA_DIR, database: 'feature_store' }),
      ],
    };
  }
}
