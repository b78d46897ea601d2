import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** Bytes to store: a buffer, or a stream of chunks (node Readable or any async iterable). */
export type ArtifactContent = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** IANA media type, e.g. application/x-ndjson or application/onnx. */
  mediaType: string;
  /** Human-readable name kept as metadata; it never takes part in the address. */
  name?: string;
}

export interface StoredArtifact {
  /** Where the artifact lives, derived only from its sha256 (file:///…/sha256/ab/<hex>, s3://…/sha256/ab/<hex>). */
  uri: string;
  /** Lowercase hex SHA-256 of the bytes: the content address. */
  sha256: string;
  sizeBytes: number;
}

export interface ArtifactInfo extends StoredArtifact {
  mediaType: string;
  name?: string;
}

/**
 * A content-addressed artifact store. The same bytes always get the same uri, writing them again is
 * a no-op, and `get` never returns bytes whose sha256 differs from the address.
 */
export interface ArtifactStore {
  put(content: ArtifactContent, options: PutOptions): Promise<StoredArtifact>;
  /** The bytes, verified against the sha256 in the address; throws ArtifactIntegrityError or ArtifactNotFoundError. */
  get(uriOrDigest: string): Promise<Buffer>;
  exists(uriOrDigest: string): Promise<boolean>;
  /** Metadata without reading the bytes; throws ArtifactNotFoundError. */
  stat(uriOrDigest: string): Promise<ArtifactInfo>;
}

export class ArtifactIntegrityError extends Error {
  override readonly name = 'ArtifactIntegrityError';
  constructor(
    readonly uri: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(`artifact ${uri} is corrupt: expected sha256 ${expectedSha256}, read ${actualSha256}`);
  }
}

export class ArtifactNotFoundError extends Error {
  override readonly name = 'ArtifactNotFoundError';
  constructor(readonly uri: string) {
    super(`artifact ${uri} not found`);
  }
}

/** A backend failure that is neither "missing" nor "corrupt" (permissions, HTTP errors, bad config). */
export class ArtifactStoreError extends Error {
  override readonly name = 'ArtifactStoreError';
}

const SHA256_HEX = /^[a-f0-9]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The relative object key of a digest: sha256/ab/abcdef… (two-char fan-out keeps directories small). */
export function digestKey(sha256: string): string {
  return `sha256/${sha256.slice(0, 2)}/${sha256}`;
}

/**
 * The sha256 an address claims: accepts `sha256:<hex>` or any uri whose last segment is the hex digest.
 * Throws for anything else: an address without a digest cannot be verified.
 */
export function digestOf(uriOrDigest: string): string {
  const hex = uriOrDigest.startsWith('sha256:')
    ? uriOrDigest.slice('sha256:'.length)
    : (uriOrDigest.split('/').pop() ?? '');
  if (!SHA256_HEX.test(hex))
    throw new ArtifactStoreError(`"${uriOrDigest}" is not a content address (sha256:<hex> or …/sha256/ab/<hex>)`);
  return hex;
}

export function verifyDigest(uri: string, expectedSha256: string, bytes: Uint8Array): void {
  const actual = sha256Hex(bytes);
  if (actual !== expectedSha256) throw new ArtifactIntegrityError(uri, expectedSha256, actual);
}

export function assertMediaType(mediaType: string): void {
  // A media type ends up in an HTTP header and a JSON sidecar; keep it to the RFC 6838 token shape.
  if (!/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$/.test(mediaType)) {
    throw new ArtifactStoreError(`invalid media type "${mediaType}"`);
  }
}

export function isBytes(content: ArtifactContent): content is Uint8Array {
  return content instanceof Uint8Array;
}

/** Collects a stream into one buffer (for backends that must know the length and hash before sending). */
export async function readAll(content: ArtifactContent): Promise<Buffer> {
  if (isBytes(content)) return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const chunks: Buffer[] = [];
  for await (const chunk of content as AsyncIterable<Uint8Array | string>) {
    chunks.push(
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  }
  return Buffer.concat(chunks);
}
