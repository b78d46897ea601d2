import { fileURLToPath } from 'node:url';
import { ArtifactStoreError, type ArtifactStore } from './artifact-store';
import { LocalArtifactStore } from './local-store';
import { S3ArtifactStore } from './s3-store';
import type { AwsCredentials } from './sigv4';

export interface ArtifactStoreConfig {
  /**
   * file:///absolute/dir, or s3://bucket/prefix?region=us-east-1&endpoint=http://127.0.0.1:9000&pathStyle=true
   * (endpoint and pathStyle optional; region defaults to us-east-1).
   */
  url: string;
  /** Required for s3:// (secrets have no defaults). */
  credentials?: AwsCredentials;
}

/** The store a URL names: a local directory or an S3-compatible bucket. */
export function createArtifactStore(config: ArtifactStoreConfig): ArtifactStore {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new ArtifactStoreError(`artifact store URL "${config.url}" is not a URL (file:///dir or s3://bucket/prefix)`);
  }
  if (url.protocol === 'file:') return new LocalArtifactStore(fileURLToPath(url));
  if (url.protocol === 's3:') {
    if (!config.credentials) throw new ArtifactStoreError(`artifact store ${config.url} needs S3 credentials`);
    const pathStyle = url.searchParams.get('pathStyle');
    if (pathStyle !== null && pathStyle !== 'true' && pathStyle !== 'false')
      throw new ArtifactStoreError(`pathStyle must be true or false, got "${pathStyle}"`);
    const endpoint = url.searchParams.get('endpoint');
    return new S3ArtifactStore({
      bucket: url.hostname,
      prefix: decodeURIComponent(url.pathname),
      region: url.searchParams.get('region') ?? 'us-east-1',
      credentials: config.credentials,
      ...(endpoint ? { endpoint } : {}),
      ...(pathStyle !== null ? { pathStyle: pathStyle === 'true' } : {}),
    });
  }
  throw new ArtifactStoreError(`unsupported artifact store URL scheme "${url.protocol}" (file: or s3:)`);
}
