import type { INestApplication } from '@nestjs/common';
import { createServiceApp, defineService } from '@mlops/platform';
import { AppModule } from './app.module';
import { type IngestionConfig, IngestionConfigSpec } from './config';
import { rawRecordsBody } from './records/ingest-records/raw-body.middleware';
import { SERVICE } from './tokens';

/** The ingestion service as the platform boots it. */
export const ingestionService = defineService({
  service: SERVICE,
  configSpec: IngestionConfigSpec,
  appModule: (config) => AppModule.forRoot(config),
  // Registered before Nest's body parsers, which are added when the app initialises.
  beforeInit: (app, config) => void app.use(rawRecordsBody(config.INGESTION_MAX_BODY_BYTES)),
});

/** The ingestion app with its event handlers running, not yet listening on HTTP. */
export function createIngestionApp(config: IngestionConfig): Promise<INestApplication> {
  return createServiceApp(ingestionService, config);
}
