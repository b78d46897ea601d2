import type { INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createServiceApp } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { AppModule, PG_SCHEMA, SERVICE } from './app.module';
import type { FeatureStoreConfig } from './config';

/** The feature-store app with its event handlers running, not yet listening on HTTP. */
export function createFeatureStoreApp(config: FeatureStoreConfig): Promise<INestApplication> {
  return createServiceApp({
    service: SERVICE,
    module: AppModule.forRoot(config),
    logLevel: config.LOG_LEVEL,
    maxEventBytes: config.MAX_EVENT_BYTES,
    consumerGroup: config.CONSUMER_GROUP,
    inbox: { dataSource: (app) => app.get<DataSource>(POSTGRES), schema: PG_SCHEMA },
  });
}
