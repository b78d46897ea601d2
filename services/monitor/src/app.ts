import type { INestApplication } from '@nestjs/common';
import { createServiceApp, defineService } from '@mlops/platform';
import { AppModule } from './app.module';
import { type MonitorConfig, MonitorConfigSpec } from './config';
import { SERVICE } from './tokens';

/** The monitor service as the platform boots it. */
export const monitorService = defineService({
  service: SERVICE,
  configSpec: MonitorConfigSpec,
  appModule: (config) => AppModule.forRoot(config),
});

/** The monitor app with its event handlers running, not yet listening on HTTP. */
export function createMonitorApp(config: MonitorConfig): Promise<INestApplication> {
  return createServiceApp(monitorService, config);
}
