import type { INestApplication } from '@nestjs/common';
import { createServiceApp, defineService } from '@mlops/platform';
import { AppModule } from './app.module';
import { type DeployerConfig, DeployerConfigSpec } from './config';
import { installLeanAsyncResourceBind } from './infrastructure/lean-async-bind';
import { SERVICE } from './tokens';

/** The deployer service as the platform boots it. */
export const deployerService = defineService({
  service: SERVICE,
  configSpec: DeployerConfigSpec,
  appModule: (config) => AppModule.forRoot(config),
  httpAdapter: (config) => config.HTTP_ADAPTER,
  // Fastify binds an AsyncResource per request with a body: Node 20's bind costs more than our predict (see the module).
  beforeInit: () => installLeanAsyncResourceBind(),
});

/** The deployer app with its event handlers running, not yet listening on HTTP. */
export function createDeployerApp(config: DeployerConfig): Promise<INestApplication> {
  return createServiceApp(deployerService, config);
}
