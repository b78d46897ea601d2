import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArtifactStoreError, S3ArtifactStore, createArtifactStore, digestKey, digestOf } from '../src';
import { describeArtifactStoreContract } from './support/contract';
import { FakeS3Server } from './support/fake-s3-server';

// The S3 backend runs the same contract against FakeS3Server, a TEST STAND-IN that checks SigV4 with the
// shared secret. A run against real S3 or MinIO is left to CI with credentials.
const credentials = { accessKeyId: 'AKIDTESTSTANDIN', secretAccessKey: 'test-stand-in-secret/with+special=chars' };

describeArtifactStoreContract('S3-compatible (fake S3 stand-in with SigV4 checks)', async () => {
  const server = new FakeS3Server({ bucket: 'mlops-artifacts', region: 'eu-central-1', credentials });
  const endpoint = await server.start();
  const store = createArtifactStore({
    url: `s3://mlops-artifacts/team a/snapshots?region=eu-central-1&endpoint=${encodeURIComponent(endpoint)}`,
    credentials,
  });
  assert.ok(store instanceof S3ArtifactStore);
  return {
    store,
    async tamper(uri, bytes) {
      const object = server.objects.get(`team a/snapshots/${digestKey(digestOf(uri))}`);
      assert.ok(object, `no object behind ${uri}`);
      object.bytes = Buffer.from(bytes);
    },
    async close() {
      assert.deepEqual(server.rejected, [], 'the stand-in rejected a request the client signed');
      await server.stop();
    },
  };
});

test('S3 uris name the bucket and prefix; keys with spaces are signed correctly', async () => {
  const server = new FakeS3Server({ bucket: 'mlops-artifacts', region: 'us-east-1', credentials });
  const endpoint = await server.start();
  try {
    const store = new S3ArtifactStore({
      bucket: 'mlops-artifacts',
      prefix: '/team a/snapshots/',
      endpoint,
      region: 'us-east-1',
      credentials,
    });
    const stored = await store.put(Buffer.from('x'), { mediaType: 'text/plain' });
    assert.equal(
      stored.uri,
      `s3://mlops-artifacts/team a/snapshots/sha256/${stored.sha256.slice(0, 2)}/${stored.sha256}`,
    );
    assert.deepEqual([...server.objects.keys()], [`team a/snapshots/${digestKey(stored.sha256)}`]);
  } finally {
    await server.stop();
  }
});

test('a wrong secret is refused by the stand-in with 403 SignatureDoesNotMatch', async () => {
  const server = new FakeS3Server({ bucket: 'mlops-artifacts', region: 'us-east-1', credentials });
  const endpoint = await server.start();
  try {
    const store = new S3ArtifactStore({
      bucket: 'mlops-artifacts',
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    await assert.rejects(store.put(Buffer.from('x'), { mediaType: 'text/plain' }), (error: unknown) => {
      assert.ok(error instanceof ArtifactStoreError);
      assert.match(error.message, /HTTP 403/);
      return true;
    });
    await assert.rejects(store.get(`sha256:${'0'.repeat(64)}`), /HTTP 403 SignatureDoesNotMatch/);
    assert.equal(server.objects.size, 0);
    assert.ok(
      server.rejected.every((reason) => reason.endsWith('signature does not match')),
      server.rejected.join('\n'),
    );
  } finally {
    await server.stop();
  }
});

test('a signature made for another moment is refused (the stand-in checks the clock like S3)', async () => {
  const server = new FakeS3Server({ bucket: 'mlops-artifacts', region: 'us-east-1', credentials });
  const endpoint = await server.start();
  try {
    const store = new S3ArtifactStore({
      bucket: 'mlops-artifacts',
      endpoint,
      region: 'us-east-1',
      credentials,
      now: () => new Date(Date.now() - 3_600_000),
    });
    await assert.rejects(store.exists(`sha256:${'0'.repeat(64)}`), /HTTP 403/);
    assert.match(server.rejected.join('\n'), /too skewed/);
  } finally {
    await server.stop();
  }
});

test('without an endpoint the store talks virtual-hosted style to AWS and signs that host', async () => {
  const seen: Array<{ url: string; headers: Record<string, string> }> = [];
  const fakeFetch: typeof fetch = async (input, init) => {
    seen.push({ url: String(input), headers: init?.headers as Record<string, string> });
    return new Response(null, { status: 404 });
  };
  const store = createArtifactStore({ url: 's3://mlops-artifacts/models?region=eu-west-1', credentials });
  assert.ok(store instanceof S3ArtifactStore);
  const direct = new S3ArtifactStore({
    bucket: 'mlops-artifacts',
    prefix: 'models',
    region: 'eu-west-1',
    credentials,
    fetch: fakeFetch,
    now: () => new Date('2025-01-02T03:04:05Z'),
  });
  const digest = 'ab'.repeat(32);
  assert.equal(await direct.exists(`s3://mlops-artifacts/models/sha256/ab/${digest}`), false);
  assert.equal(seen[0]?.url, `https://mlops-artifacts.s3.eu-west-1.amazonaws.com/models/sha256/ab/${digest}`);
  assert.match(
    seen[0]?.headers.authorization ?? '',
    /^AWS4-HMAC-SHA256 Credential=AKIDTESTSTANDIN\/20250102\/eu-west-1\/s3\/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=[a-f0-9]{64}$/,
  );
  assert.equal(seen[0]?.headers['x-amz-date'], '20250102T030405Z');
  await assert.rejects(direct.get(`s3://other-bucket/models/sha256/ab/${digest}`), /does not belong/);
});
