import type { INestApplication } from '@nestjs/common';
import { createServiceApp, defineService } from '@mlops/platform';
import { AppModule } from './app.module';
import { type FeatureStoreConfig, FeatureStoreConfigSpec } from './config';
import { SERVICE } from './tokens';

/** The feature-store service as the platform boots it. */
export const featureStoreService = defineService({
  service: SERVICE,
  configSpec: FeatureStoreConfigSpec,
  appModule: (config) => AppModule.forRoot(config),
});

/** The feature-store app with its event handlers running, not yet listening on HTTP. */
export function createFeatureStoreApp(config: FeatureStoreConfig): Promise<INestApplication> {
  return createServiceApp(featureStoreService, config);
}
