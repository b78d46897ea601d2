import 'reflect-metadata';
import { loadConfigOrExit } from '@mlops/config';
import { listenService } from '@mlops/messaging';
import { createDeployerApp } from './app';
import { SERVICE } from './app.module';
import { DeployerConfigSpec } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(SERVICE, DeployerConfigSpec);
  const app = await createDeployerApp(config);
  await listenService(app, config.HTTP_HOST, config.HTTP_PORT, SERVICE);
}

main().catch((error: unknown) => {
  console.error(`${SERVICE} failed to start:`, error);
  process.exit(1);
});
