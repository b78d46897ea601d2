import { type ConfigOf, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the deployer service reads; validated at start. */
export const DeployerConfigSpec = {
  ...serviceKeys(3005),
  ...postgresKeys,
};

export type DeployerConfig = ConfigOf<typeof DeployerConfigSpec>;
