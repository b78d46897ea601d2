import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { authKeys } from '@mlops/auth';
import { type ConfigOf, clickhouseKeys, postgresKeys, serviceKeys, str, url } from '@mlops/config';

/** Every key the feature-store service reads; validated at start. */
export const FeatureStoreConfigSpec = {
  ...serviceKeys(3002),
  ...postgresKeys,
  ...authKeys,
  ...clickhouseKeys('feature-store'),
  ARTIFACT_STORE_URL: url({
    description:
      'Where dataset snapshots are stored (content-addressed): file:///dir, or s3://bucket/prefix?region=..&endpoint=..&pathStyle=true. ' +
      'Default: the .data/artifacts directory under the working directory at start',
    protocols: ['file', 's3'],
    // Resolved when the service starts: relative to its working directory.
    default: pathToFileURL(resolve('.data/artifacts')).href,
  }),
  ARTIFACT_STORE_ACCESS_KEY_ID: str({
    description: 's3:// artifact store only: access key id',
    optional: true,
    secret: true,
  }),
  ARTIFACT_STORE_SECRET_ACCESS_KEY: str({
    description: 's3:// artifact store only: secret access key',
    optional: true,
    secret: true,
  }),
  ARTIFACT_STORE_SESSION_TOKEN: str({
    description: 's3:// artifact store only: session token of temporary credentials',
    optional: true,
    secret: true,
  }),
};

export type FeatureStoreConfig = ConfigOf<typeof FeatureStoreConfigSpec>;
