import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArtifactStoreError, LocalArtifactStore, createArtifactStore, digestOf } from '../src';
import { describeArtifactStoreContract } from './support/contract';

describeArtifactStoreContract('local directory', async () => {
  const root = await mkdtemp(join(tmpdir(), 'artifacts-local-'));
  const store = createArtifactStore({ url: pathToFileURL(root).href });
  assert.ok(store instanceof LocalArtifactStore);
  return {
    store,
    tamper: (uri, bytes) => writeFile(store.pathOf(digestOf(uri)), bytes),
    close: () => rm(root, { recursive: true, force: true }),
  };
});

test('the local store lays files out as <root>/sha256/ab/<hex> and leaves no temp files', async () => {
  const root = await mkdtemp(join(tmpdir(), 'artifacts-layout-'));
  try {
    const store = new LocalArtifactStore(root);
    const stored = await store.put(Buffer.from('x'), { mediaType: 'text/plain' });
    await store.put(Buffer.from('x'), { mediaType: 'text/plain' });
    assert.equal(stored.uri, pathToFileURL(join(root, 'sha256', stored.sha256.slice(0, 2), stored.sha256)).href);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a uri of another store is refused rather than read', async () => {
  const root = await mkdtemp(join(tmpdir(), 'artifacts-foreign-'));
  try {
    const store = new LocalArtifactStore(root);
    const foreign = `file:///elsewhere/sha256/ab/${'ab'.padEnd(64, '0')}`;
    await assert.rejects(store.get(foreign), ArtifactStoreError);
    await assert.rejects(store.get('file:///x/not-a-digest'), ArtifactStoreError);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('createArtifactStore refuses unknown schemes, non-URLs and S3 without credentials', () => {
  assert.throws(() => createArtifactStore({ url: 'ftp://host/dir' }), /unsupported artifact store URL scheme/);
  assert.throws(() => createArtifactStore({ url: '/relative/or/bare/path' }), /not a URL/);
  assert.throws(() => createArtifactStore({ url: 's3://bucket/prefix' }), /needs S3 credentials/);
  assert.throws(
    () =>
      createArtifactStore({
        url: 's3://bucket/p?pathStyle=yes',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      }),
    /pathStyle/,
  );
});
