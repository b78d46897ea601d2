import type { INestApplication } from '@nestjs/common';
import { AUTH_SETTINGS, type AuthSettings, TokenVerifier } from '@mlops/auth';
import { createServiceApp, defineService } from '@mlops/platform';
import { AppModule } from './app.module';
import { type RegistryConfig, RegistryConfigSpec } from './config';
import { uploadBody } from './models/upload-model/upload-body.middleware';
import { SERVICE } from './tokens';

/** The registry service as the platform boots it. */
export const registryService = defineService({
  service: SERVICE,
  configSpec: RegistryConfigSpec,
  appModule: (config) => AppModule.forRoot(config),
  // Registered before Nest's body parsers, which are added when the app initialises. It reads the bytes of an
  // upload only for a request whose token verifies.
  beforeInit: (app, config) =>
    void app.use(
      uploadBody(config.REGISTRY_MAX_UPLOAD_BYTES, {
        settings: app.get<AuthSettings>(AUTH_SETTINGS, { strict: false }),
        verifier: app.get(TokenVerifier, { strict: false }),
      }),
    ),
});

/** The registry app with its event handlers running, not yet listening on HTTP. */
export function createRegistryApp(config: RegistryConfig): Promise<INestApplication> {
  return createServiceApp(registryService, config);
}
