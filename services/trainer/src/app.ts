import type { INestApplication } from '@nestjs/common';
import { createServiceApp, defineService } from '@mlops/platform';
import { AppModule } from './app.module';
import { type TrainerConfig, TrainerConfigSpec } from './config';
import { SERVICE } from './tokens';
import { rawArtifactBody } from './tracking/mlflow/artifact-body.middleware';

/** The trainer service as the platform boots it. */
export const trainerService = defineService({
  service: SERVICE,
  configSpec: TrainerConfigSpec,
  appModule: (config) => AppModule.forRoot(config),
  // Before Nest's body parsers (added when the app initialises): an uploaded artifact is bytes, whatever its type.
  beforeInit: (app, config) => void app.use(rawArtifactBody(config.TRACKING_MAX_ARTIFACT_BYTES)),
});

/** The trainer app with its event handlers running, not yet listening on HTTP. */
export function createTrainerApp(config: TrainerConfig): Promise<INestApplication> {
  return createServiceApp(trainerService, config);
}
