import { type ConfigOf, clickhouseKeys, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the feature-store service reads; validated at start. */
export const FeatureStoreConfigSpec = {
  ...serviceKeys(3002),
  ...postgresKeys,
  ...clickhouseKeys('feature-store'),
};

export type FeatureStoreConfig = ConfigOf<typeof FeatureStoreConfigSpec>;
