import type { INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createServiceApp } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { AppModule } from './app.module';
import type { IngestionConfig } from './config';
import { rawRecordsBody } from './records/ingest-records/raw-body.middleware';
import { PG_SCHEMA, SERVICE } from './tokens';

/** The ingestion app with its event handlers running, not yet listening on HTTP. */
export async function createIngestionApp(config: IngestionConfig): Promise<INestApplication> {
  const app = await createServiceApp({
    service: SERVICE,
    module: AppModule.forRoot(config),
    logLevel: config.LOG_LEVEL,
    maxEventBytes: config.MAX_EVENT_BYTES,
    consumerGroup: config.CONSUMER_GROUP,
    inbox: { dataSource: (app) => app.get<DataSource>(POSTGRES), schema: PG_SCHEMA },
  });
  // Registered before Nest's body parsers (they are added when the app initialises, at listen).
  app.use(rawRecordsBody(config.INGESTION_MAX_BODY_BYTES));
  return app;
}
