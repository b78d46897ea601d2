import { authKeys } from '@mlops/auth';
import { type ConfigOf, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the registry service reads; validated at start. */
export const RegistryConfigSpec = {
  ...serviceKeys(3004),
  ...postgresKeys,
  ...authKeys,
};

export type RegistryConfig = ConfigOf<typeof RegistryConfigSpec>;
