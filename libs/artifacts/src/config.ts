import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { str, url } from '@mlops/config';
import type { ArtifactStore } from './artifact-store';
import { createArtifactStore } from './create-artifact-store';

/**
 * The config keys of the artifact store, spread into a service's config spec. Every service that reads or writes
 * artifacts (snapshots, ONNX models, reference samples) names the same store with the same keys.
 */
export const artifactKeys = {
  ARTIFACT_STORE_URL: url({
    description:
      'Where snapshots, models and other artifacts are stored (content-addressed): file:///dir, or ' +
      's3://bucket/prefix?region=..&endpoint=..&pathStyle=true. Default: the .data/artifacts directory under the ' +
      'working directory at start (the same for every service started from the same directory)',
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

/** The loaded values of `artifactKeys`. */
export interface ArtifactStoreSettings {
  ARTIFACT_STORE_URL: string;
  ARTIFACT_STORE_ACCESS_KEY_ID?: string | undefined;
  ARTIFACT_STORE_SECRET_ACCESS_KEY?: string | undefined;
  ARTIFACT_STORE_SESSION_TOKEN?: string | undefined;
}

/** The artifact store a service's config names (s3:// needs the credential keys). */
export function artifactStoreOf(config: ArtifactStoreSettings): ArtifactStore {
  const {
    ARTIFACT_STORE_ACCESS_KEY_ID: accessKeyId,
    ARTIFACT_STORE_SECRET_ACCESS_KEY: secretAccessKey,
    ARTIFACT_STORE_SESSION_TOKEN: sessionToken,
  } = config;
  return createArtifactStore({
    url: config.ARTIFACT_STORE_URL,
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  });
}
