import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule, messagingMigrations } from '@mlops/messaging';
import { ObservabilityModule } from '@mlops/observability';
import { PostgresModule } from '@mlops/storage';
import type { IngestionConfig } from './config';

export const SERVICE = 'ingestion';
export const PG_SCHEMA = 'ingestion';

@Module({})
export class AppModule {
  static forRoot(config: IngestionConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ObservabilityModule.forRoot({ service: SERVICE }),
        MessagingModule.forRoot({ service: SERVICE, brokers: config.KAFKA_BROKERS, maxEventBytes: config.MAX_EVENT_BYTES }),
        PostgresModule.forRoot({ url: config.DATABASE_URL, schema: PG_SCHEMA, migrations: [...messagingMigrations], applicationName: SERVICE }),

      ],
    };
  }
}
