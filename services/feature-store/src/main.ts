import 'reflect-metadata';
import { loadConfigOrExit } from '@mlops/config';
import { listenService } from '@mlops/messaging';
import { createFeatureStoreApp } from './app';
import { SERVICE } from './app.module';
import { FeatureStoreConfigSpec } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(SERVICE, FeatureStoreConfigSpec);
  const app = await createFeatureStoreApp(config);
  await listenService(app, config.HTTP_HOST, config.HTTP_PORT, SERVICE);
}

main().catch((error: unknown) => {
  console.error(`${SERVICE} failed to start:`, error);
  process.exit(1);
});
