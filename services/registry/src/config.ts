import { artifactKeys } from '@mlops/artifacts';
import { authKeys } from '@mlops/auth';
import { type ConfigOf, int, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the registry service reads; validated at start. */
export const RegistryConfigSpec = {
  ...serviceKeys(3004),
  ...postgresKeys,
  ...authKeys,
  ...artifactKeys,
  REGISTRY_MAX_UPLOAD_BYTES: int({
    description: 'Largest ONNX file accepted by POST /models/:name/versions (bytes); a larger upload gets 413',
    default: 64 * 1024 * 1024,
    min: 1,
  }),
};

export type RegistryConfig = ConfigOf<typeof RegistryConfigSpec>;
