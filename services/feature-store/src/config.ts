import { artifactKeys } from '@mlops/artifacts';
import { authKeys } from '@mlops/auth';
import { type ConfigOf, clickhouseKeys, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the feature-store service reads; validated at start. */
export const FeatureStoreConfigSpec = {
  ...serviceKeys(3002),
  ...postgresKeys,
  ...authKeys,
  ...clickhouseKeys('feature-store'),
  ...artifactKeys,
};

export type FeatureStoreConfig = ConfigOf<typeof FeatureStoreConfigSpec>;
