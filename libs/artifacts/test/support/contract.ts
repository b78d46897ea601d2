import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { ArtifactIntegrityError, ArtifactNotFoundError, type ArtifactStore } from '../../src';

/** A store under test plus a back door to its storage, to simulate corruption at rest. */
export interface StoreUnderTest {
  store: ArtifactStore;
  /** Replaces the stored bytes behind a uri without going through the store. */
  tamper(uri: string, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

export interface ContractCheck {
  name: string;
  run(sut: StoreUnderTest): Promise<void>;
}

const sha = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

function everyByte(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) bytes[i] = (i * 31 + 7) % 256;
  return bytes;
}

/**
 * The behaviour every ArtifactStore backend must have. Each check is a plain function so that a test
 * can also run it against a deliberately broken store and expect it to fail.
 */
export const artifactStoreContract: readonly ContractCheck[] = [
  {
    name: 'put returns the sha256 address and size; get returns the same bytes',
    async run({ store }) {
      const bytes = Buffer.from('{"a":1}\n{"a":2}\n');
      const stored = await store.put(bytes, { mediaType: 'application/x-ndjson' });
      assert.equal(stored.sha256, sha(bytes));
      assert.equal(stored.sizeBytes, bytes.byteLength);
      assert.ok(stored.uri.endsWith(`/sha256/${stored.sha256.slice(0, 2)}/${stored.sha256}`), stored.uri);
      assert.deepEqual(await store.get(stored.uri), bytes);
    },
  },
  {
    name: 'writing the same bytes twice is a no-op returning the same uri (first metadata wins)',
    async run({ store }) {
      const bytes = Buffer.from('same bytes');
      const first = await store.put(bytes, { mediaType: 'text/plain', name: 'first' });
      const second = await store.put(Buffer.from('same bytes'), {
        mediaType: 'application/octet-stream',
        name: 'second',
      });
      assert.deepEqual(second, first);
      const info = await store.stat(first.uri);
      assert.equal(info.mediaType, 'text/plain');
      assert.equal(info.name, 'first');
      assert.deepEqual(await store.get(first.uri), bytes);
    },
  },
  {
    name: 'different bytes get different addresses',
    async run({ store }) {
      const a = await store.put(Buffer.from('a'), { mediaType: 'text/plain' });
      const b = await store.put(Buffer.from('b'), { mediaType: 'text/plain' });
      assert.notEqual(a.uri, b.uri);
      assert.deepEqual(await store.get(a.uri), Buffer.from('a'));
      assert.deepEqual(await store.get(b.uri), Buffer.from('b'));
    },
  },
  {
    name: 'a stream of chunks gets the same address as the same bytes at once',
    async run({ store }) {
      const bytes = everyByte(300_001);
      const streamed = await store.put(chunksOf(bytes, 65_536), { mediaType: 'application/octet-stream' });
      assert.equal(streamed.sha256, sha(bytes));
      assert.equal(streamed.sizeBytes, bytes.byteLength);
      const direct = await store.put(bytes, { mediaType: 'application/octet-stream' });
      assert.equal(direct.uri, streamed.uri);
      assert.deepEqual(await store.get(streamed.uri), bytes);
    },
  },
  {
    name: 'binary content of every byte value survives a round trip',
    async run({ store }) {
      const bytes = everyByte(1 << 20);
      const stored = await store.put(bytes, { mediaType: 'application/onnx' });
      assert.deepEqual(await store.get(stored.uri), bytes);
    },
  },
  {
    name: 'an empty artifact is stored and read back',
    async run({ store }) {
      const stored = await store.put(Buffer.alloc(0), { mediaType: 'application/octet-stream' });
      assert.equal(stored.sha256, sha(''));
      assert.equal(stored.sizeBytes, 0);
      assert.equal((await store.get(stored.uri)).byteLength, 0);
    },
  },
  {
    name: 'exists is false before put and true after; sha256:<hex> resolves like the uri',
    async run({ store }) {
      const bytes = Buffer.from('exists?');
      const digest = `sha256:${sha(bytes)}`;
      assert.equal(await store.exists(digest), false);
      const stored = await store.put(bytes, { mediaType: 'text/plain' });
      assert.equal(await store.exists(stored.uri), true);
      assert.equal(await store.exists(digest), true);
      assert.deepEqual(await store.get(digest), bytes);
    },
  },
  {
    name: 'stat reports size, media type and name without changing the address',
    async run({ store }) {
      const bytes = Buffer.from('model bytes');
      const stored = await store.put(bytes, { mediaType: 'application/onnx', name: 'churn model v3.onnx' });
      assert.deepEqual(await store.stat(stored.uri), {
        ...stored,
        mediaType: 'application/onnx',
        name: 'churn model v3.onnx',
      });
    },
  },
  {
    name: 'get and stat of a missing artifact throw ArtifactNotFoundError',
    async run({ store }) {
      const digest = `sha256:${sha('never stored')}`;
      await assert.rejects(store.get(digest), ArtifactNotFoundError);
      await assert.rejects(store.stat(digest), ArtifactNotFoundError);
    },
  },
  {
    name: 'bytes corrupted at rest are refused with ArtifactIntegrityError',
    async run({ store, tamper }) {
      const stored = await store.put(Buffer.from('the real snapshot'), { mediaType: 'text/plain' });
      await tamper(stored.uri, Buffer.from('the fake snapshot'));
      await assert.rejects(store.get(stored.uri), (error: unknown) => {
        assert.ok(error instanceof ArtifactIntegrityError, String(error));
        assert.equal(error.expectedSha256, stored.sha256);
        assert.equal(error.actualSha256, sha('the fake snapshot'));
        return true;
      });
    },
  },
];

/** Registers the whole contract as node:test cases, each on a fresh store. */
export function describeArtifactStoreContract(label: string, factory: StoreFactory): void {
  describe(`ArtifactStore contract: ${label}`, () => {
    for (const check of artifactStoreContract) {
      test(check.name, async () => {
        const sut = await factory();
        try {
          await check.run(sut);
        } finally {
          await sut.close();
        }
      });
    }
  });
}
