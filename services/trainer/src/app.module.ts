import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule, messagingMigrations } from '@mlops/messaging';
import { ObservabilityModule } from '@mlops/observability';
import { PostgresModule } from '@mlops/storage';
import type { TrainerConfig } from './config';

export const SERVICE = 'trainer';
export const PG_SCHEMA = 'trainer';

@Module({})
export class AppModule {
  static forRoot(config: TrainerConfig): DynamicModule {
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
