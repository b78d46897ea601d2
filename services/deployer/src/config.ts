import { authKeys } from '@mlops/auth';
import { type ConfigOf, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the deployer service reads; validated at start. */
export const DeployerConfigSpec = {
  ...serviceKeys(3005),
  ...postgresKeys,
  ...authKeys,
};

export type DeployerConfig = ConfigOf<typeof DeployerConfigSpec>;
