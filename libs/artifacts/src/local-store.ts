import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
  isBytes,
  verifyDigest,
} from './artifact-store';

interface Sidecar {
  mediaType: string;
  name?: string;
}

/**
 * Artifacts as files under one directory: <root>/sha256/ab/<hex> plus a <hex>.json metadata sidecar.
 * Writes go to <root>/tmp first and are renamed into place, so a reader never sees a partial file.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly baseUri: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.baseUri = pathToFileURL(this.root).href.replace(/\/?$/, '/');
  }

  async put(content: ArtifactContent, options: PutOptions): Promise<StoredArtifact> {
    assertMediaType(options.mediaType);
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmpBlob = join(tmpDir, `${randomUUID()}.part`);
    try {
      const { sha256, sizeBytes } = await writeHashing(tmpBlob, content);
      const blobPath = this.pathOf(sha256);
      const stored = { uri: this.uriOf(sha256), sha256, sizeBytes };
      // Same bytes already stored: the address is the same, nothing to do (first metadata wins).
      if (await fileExists(blobPath)) return stored;
      await mkdir(dirname(blobPath), { recursive: true });
      const sidecar: Sidecar = {
        mediaType: options.mediaType,
        ...(options.name !== undefined ? { name: options.name } : {}),
      };
      const tmpSidecar = join(tmpDir, `${randomUUID()}.json.part`);
      await writeDurably(tmpSidecar, Buffer.from(JSON.stringify(sidecar)));
      // Sidecar first: once the blob is visible its metadata is too.
      await rename(tmpSidecar, `${blobPath}.json`);
      await rename(tmpBlob, blobPath);
      return stored;
    } finally {
      await rm(tmpBlob, { force: true });
    }
  }

  async get(uriOrDigest: string): Promise<Buffer> {
    const sha256 = this.resolveDigest(uriOrDigest);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(sha256));
    } catch (error) {
      if (isMissing(error)) throw new ArtifactNotFoundError(this.uriOf(sha256));
      throw error;
    }
    verifyDigest(this.uriOf(sha256), sha256, bytes);
    return bytes;
  }

  async exists(uriOrDigest: string): Promise<boolean> {
    return fileExists(this.pathOf(this.resolveDigest(uriOrDigest)));
  }

  async stat(uriOrDigest: string): Promise<ArtifactInfo> {
    const sha256 = this.resolveDigest(uriOrDigest);
    const blobPath = this.pathOf(sha256);
    let sizeBytes: number;
    try {
      sizeBytes = (await stat(blobPath)).size;
    } catch (error) {
      if (isMissing(error)) throw new ArtifactNotFoundError(this.uriOf(sha256));
      throw error;
    }
    const sidecar = await readFile(`${blobPath}.json`, 'utf8').then(
      (text) => JSON.parse(text) as Sidecar,
      () => undefined,
    );
    return {
      uri: this.uriOf(sha256),
      sha256,
      sizeBytes,
      mediaType: sidecar?.mediaType ?? 'application/octet-stream',
      ...(sidecar?.name !== undefined ? { name: sidecar.name } : {}),
    };
  }

  /** The file behind an address (for tools and tests; readers should use get, which verifies). */
  pathOf(sha256: string): string {
    return join(this.root, ...digestKey(sha256).split('/'));
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
}

async function writeHashing(path: string, content: ArtifactContent): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const file = await open(path, 'wx');
  try {
    const chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array> = isBytes(content) ? [content] : content;
    for await (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      hash.update(bytes);
      sizeBytes += bytes.byteLength;
      await writeFully(file, bytes);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const file = await open(path, 'wx');
  try {
    await writeFully(file, bytes);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** FileHandle.write may write less than asked; loop until every byte is down. */
async function writeFully(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}
