import type { INestApplication } from '@nestjs/common';
import { createServiceApp, defineService } from '@mlops/platform';
import { AppModule } from './app.module';
import { type DeployerConfig, DeployerConfigSpec } from './config';
import { SERVICE } from './tokens';

/** The deployer service as the platform boots it. */
export const deployerService = defineService({
  service: SERVICE,
  configSpec: DeployerConfigSpec,
  appModule: (config) => AppModule.forRoot(config),
  httpAdapter: (config) => config.HTTP_ADAPTER,
});

/** The deployer app with its event handlers running, not yet listening on HTTP. */
export function createDeployerApp(config: DeployerConfig): Promise<INestApplication> {
  return createServiceApp(deployerService, config);
}
