import {
  type ArtifactContent,
  type ArtifactInfo,
  ArtifactNotFoundError,
  ArtifactStoreError,
  type ArtifactStore,
  type PutOptions,
  type StoredArtifact,
  assertMediaType,
  digestKey,
  digestOf,
  readAll,
  sha256Hex,
  verifyDigest,
} from './artifact-store';
import { type AwsCredentials, EMPTY_PAYLOAD_SHA256, encodeS3Path, signV4 } from './sigv4';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash ('' for the bucket root). */
  prefix?: string;
  /** http(s)://host[:port] of an S3-compatible service; default https://s3.<region>.amazonaws.com. */
  endpoint?: string;
  region: string;
  credentials: AwsCredentials;
  /** Path-style addressing (endpoint/bucket/key), which MinIO and most S3 clones expect; default true when an endpoint is given. */
  pathStyle?: boolean;
  /** Signing clock (tests). */
  now?: () => Date;
  /** HTTP client (tests, proxies); default the global fetch. */
  fetch?: typeof fetch;
}

/**
 * Artifacts as objects at s3://bucket/prefix/sha256/ab/<hex>, spoken to with plain fetch and SigV4.
 * Uploads are single PUTs (up to 5 GiB) of a buffered body: the content address must be known before
 * the key can be named, and x-amz-content-sha256 = the address lets S3 itself reject a damaged upload.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly prefix: string;
  private readonly endpoint: URL;
  private readonly pathStyle: boolean;
  private readonly baseUri: string;

  constructor(private readonly options: S3StoreOptions) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket))
      throw new ArtifactStoreError(`invalid S3 bucket name "${options.bucket}"`);
    if (!options.credentials.accessKeyId || !options.credentials.secretAccessKey)
      throw new ArtifactStoreError('S3 artifact store needs an access key id and a secret access key');
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.endpoint = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
    if (this.endpoint.protocol !== 'http:' && this.endpoint.protocol !== 'https:')
      throw new ArtifactStoreError(`S3 endpoint must be http(s): ${options.endpoint}`);
    this.pathStyle = options.pathStyle ?? options.endpoint !== undefined;
    this.baseUri = `s3://${options.bucket}/${this.prefix ? `${this.prefix}/` : ''}`;
  }

  async put(content: ArtifactContent, options: PutOptions): Promise<StoredArtifact> {
    assertMediaType(options.mediaType);
    const bytes = await readAll(content);
    const sha256 = sha256Hex(bytes);
    const stored = { uri: this.uriOf(sha256), sha256, sizeBytes: bytes.byteLength };
    if (await this.exists(stored.uri)) return stored;
    const headers: Record<string, string> = { 'content-type': options.mediaType, 'x-amz-meta-sha256': sha256 };
    if (options.name !== undefined) headers['x-amz-meta-name'] = encodeURIComponent(options.name);
    const response = await this.send('PUT', sha256, headers, bytes, sha256);
    if (!response.ok) throw await this.failure('PUT', stored.uri, response);
    await response.arrayBuffer();
    return stored;
  }

  async get(uriOrDigest: string): Promise<Buffer> {
    const sha256 = this.resolveDigest(uriOrDigest);
    const uri = this.uriOf(sha256);
    const response = await this.send('GET', sha256);
    if (response.status === 404) {
      await response.arrayBuffer();
      throw new ArtifactNotFoundError(uri);
    }
    if (!response.ok) throw await this.failure('GET', uri, response);
    const bytes = Buffer.from(await response.arrayBuffer());
    verifyDigest(uri, sha256, bytes);
    return bytes;
  }

  async exists(uriOrDigest: string): Promise<boolean> {
    const sha256 = this.resolveDigest(uriOrDigest);
    const response = await this.send('HEAD', sha256);
    if (response.status === 404) return false;
    if (!response.ok) throw await this.failure('HEAD', this.uriOf(sha256), response);
    return true;
  }

  async stat(uriOrDigest: string): Promise<ArtifactInfo> {
    const sha256 = this.resolveDigest(uriOrDigest);
    const uri = this.uriOf(sha256);
    const response = await this.send('HEAD', sha256);
    if (response.status === 404) throw new ArtifactNotFoundError(uri);
    if (!response.ok) throw await this.failure('HEAD', uri, response);
    const name = response.headers.get('x-amz-meta-name');
    return {
      uri,
      sha256,
      sizeBytes: Number(response.headers.get('content-length') ?? 0),
      mediaType: response.headers.get('content-type') ?? 'application/octet-stream',
      ...(name !== null ? { name: decodeURIComponent(name) } : {}),
    };
  }

  private uriOf(sha256: string): string {
    return `${this.baseUri}${digestKey(sha256)}`;
  }

  private resolveDigest(uriOrDigest: string): string {
    if (!uriOrDigest.startsWith('sha256:') && !uriOrDigest.startsWith(this.baseUri)) {
      throw new ArtifactStoreError(`${uriOrDigest} does not belong to the artifact store at ${this.baseUri}`);
    }
    return digestOf(uriOrDigest);
  }

  private async send(
    method: 'GET' | 'HEAD' | 'PUT',
    sha256: string,
    extraHeaders: Record<string, string> = {},
    body?: Buffer,
    payloadSha256 = EMPTY_PAYLOAD_SHA256,
  ): Promise<Response> {
    const key = this.prefix ? `${this.prefix}/${digestKey(sha256)}` : digestKey(sha256);
    const host = this.pathStyle ? this.endpoint.host : `${this.options.bucket}.${this.endpoint.host}`;
    const path = this.pathStyle ? `/${this.options.bucket}/${encodeS3Path(key)}` : `/${encodeS3Path(key)}`;
    const signature = signV4(
      { method, path, headers: { host, ...extraHeaders }, payloadSha256 },
      this.options.credentials,
      { region: this.options.region, service: 's3', date: (this.options.now ?? (() => new Date()))() },
    );
    const headers: Record<string, string> = {
      ...extraHeaders,
      'x-amz-date': signature.amzDate,
      'x-amz-content-sha256': payloadSha256,
      authorization: signature.authorization,
    };
    if (this.options.credentials.sessionToken) headers['x-amz-security-token'] = this.options.credentials.sessionToken;
    try {
      return await (this.options.fetch ?? fetch)(`${this.endpoint.protocol}//${host}${path}`, {
        method,
        headers,
        ...(body ? { body } : {}),
      });
    } catch (error) {
      throw new ArtifactStoreError(`S3 ${method} ${this.uriOf(sha256)} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private async failure(method: string, uri: string, response: Response): Promise<ArtifactStoreError> {
    const text = method === 'HEAD' ? '' : await response.text().catch(() => '');
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    return new ArtifactStoreError(`S3 ${method} ${uri} failed: HTTP ${response.status}${code ? ` ${code}` : ''}`);
  }
}
