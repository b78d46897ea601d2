import { createHash } from 'node:crypto';
import {
  type ArtifactContent,
  type ArtifactInfo,
  ArtifactIntegrityError,
  ArtifactNotFoundError,
  type ArtifactStore,
  type PutOptions,
  type StoredArtifact,
  digestKey,
  digestOf,
  readAll,
} from '../../src';
import type { StoreUnderTest } from './contract';

/** Defects a store could plausibly have; the contract suite must catch every one. */
export type Defect =
  | 'none'
  | 'corrupts-bytes-on-put'
  | 'skips-verification-on-get'
  | 'random-address'
  | 'drops-last-chunk-of-streams'
  | 'exists-always-true'
  | 'overwrites-metadata';

/** An in-memory store (test only) with at most one deliberate defect. */
export class BrokenArtifactStore implements ArtifactStore {
  readonly objects = new Map<string, { bytes: Buffer; mediaType: string; name?: string }>();
  private counter = 0;

  constructor(private readonly defect: Defect) {}

  async put(content: ArtifactContent, options: PutOptions): Promise<StoredArtifact> {
    let bytes = await this.read(content);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const uri =
      this.defect === 'random-address'
        ? `mem://x/${(this.counter += 1)}/${digestKey(sha256)}`
        : `mem://x/${digestKey(sha256)}`;
    if (this.defect === 'corrupts-bytes-on-put' && bytes.byteLength > 0) {
      bytes = Buffer.from(bytes);
      bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    }
    const existing = this.objects.get(sha256);
    if (!existing || this.defect === 'overwrites-metadata') {
      this.objects.set(sha256, {
        bytes,
        mediaType: options.mediaType,
        ...(options.name !== undefined ? { name: options.name } : {}),
      });
    }
    return { uri, sha256, sizeBytes: bytes.byteLength };
  }

  async get(uriOrDigest: string): Promise<Buffer> {
    const sha256 = digestOf(uriOrDigest);
    const object = this.objects.get(sha256);
    if (!object) throw new ArtifactNotFoundError(uriOrDigest);
    const actual = createHash('sha256').update(object.bytes).digest('hex');
    if (this.defect !== 'skips-verification-on-get' && actual !== sha256)
      throw new ArtifactIntegrityError(uriOrDigest, sha256, actual);
    return object.bytes;
  }

  async exists(uriOrDigest: string): Promise<boolean> {
    return this.defect === 'exists-always-true' || this.objects.has(digestOf(uriOrDigest));
  }

  async stat(uriOrDigest: string): Promise<ArtifactInfo> {
    const sha256 = digestOf(uriOrDigest);
    const object = this.objects.get(sha256);
    if (!object) throw new ArtifactNotFoundError(uriOrDigest);
    return {
      uri: `mem://x/${digestKey(sha256)}`,
      sha256,
      sizeBytes: object.bytes.byteLength,
      mediaType: object.mediaType,
      ...(object.name !== undefined ? { name: object.name } : {}),
    };
  }

  private async read(content: ArtifactContent): Promise<Buffer> {
    if (this.defect !== 'drops-last-chunk-of-streams' || content instanceof Uint8Array) return readAll(content);
    const chunks: Uint8Array[] = [];
    for await (const chunk of content as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return Buffer.concat(chunks.slice(0, -1));
  }
}

export function brokenStoreUnderTest(defect: Defect): StoreUnderTest {
  const store = new BrokenArtifactStore(defect);
  return {
    store,
    async tamper(uri, bytes) {
      const object = store.objects.get(digestOf(uri));
      if (object) object.bytes = Buffer.from(bytes);
    },
    async close() {},
  };
}
