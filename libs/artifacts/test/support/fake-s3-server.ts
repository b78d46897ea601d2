/**
 * TEST STAND-IN, not an S3 implementation: a tiny HTTP server that speaks just enough of the S3 REST API
 * (path-style PUT, GET and HEAD Object) for the contract suite, and REJECTS every request whose SigV4
 * Authorization header does not verify with the shared secret (and every PUT whose body does not match
 * x-amz-content-sha256), like S3 does. It recomputes signatures with the library's own signer, so it
 * proves the client sends what it signs; the signer itself is pinned by the AWS published example in
 * sigv4.test.ts. A run against a real S3 or MinIO is left to CI, where credentials exist.
 */
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AwsCredentials, signV4 } from '../../src';

interface StoredObject {
  bytes: Buffer;
  headers: Record<string, string>;
}

export interface FakeS3Options {
  bucket: string;
  region: string;
  credentials: AwsCredentials;
}

export class FakeS3Server {
  readonly objects = new Map<string, StoredObject>();
  /** Every request that failed authentication, for assertions. */
  readonly rejected: string[] = [];
  private server?: Server;

  constructor(private readonly options: FakeS3Options) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => reply(res, 500, 'InternalError', String(error)));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.server ? this.server.close((error) => (error ? reject(error) : resolve())) : resolve(),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const authError = this.authenticate(req, url, body);
    if (authError) {
      this.rejected.push(`${req.method} ${url.pathname}: ${authError}`);
      reply(res, 403, 'SignatureDoesNotMatch', authError);
      return;
    }
    const [, bucket, ...keyParts] = url.pathname.split('/');
    if (bucket !== this.options.bucket) return reply(res, 404, 'NoSuchBucket', `no bucket ${bucket}`);
    const key = decodeURIComponent(keyParts.join('/'));
    if (req.method === 'PUT') {
      const headers: Record<string, string> = {
        'content-type': header(req, 'content-type') ?? 'application/octet-stream',
      };
      for (const [name, value] of Object.entries(req.headers)) {
        if (name.startsWith('x-amz-meta-') && typeof value === 'string') headers[name] = value;
      }
      this.objects.set(key, { bytes: body, headers });
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const object = this.objects.get(key);
      if (!object) return reply(res, 404, 'NoSuchKey', `no key ${key}`, req.method === 'HEAD');
      res.writeHead(200, { ...object.headers, 'content-length': String(object.bytes.byteLength) });
      res.end(req.method === 'GET' ? object.bytes : undefined);
      return;
    }
    reply(res, 405, 'MethodNotAllowed', `${req.method} is not supported by the stand-in`);
  }

  /** Returns why the request is not authentic, or undefined when its SigV4 signature verifies. */
  private authenticate(req: IncomingMessage, url: URL, body: Buffer): string | undefined {
    const authorization = header(req, 'authorization') ?? '';
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([a-f0-9]{64})$/.exec(
        authorization,
      );
    if (!match) return 'missing or malformed Authorization header';
    const [, accessKeyId, day, region, signedHeaderList, signature] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (accessKeyId !== this.options.credentials.accessKeyId) return 'unknown access key';
    if (region !== this.options.region) return `wrong region ${region}`;
    const amzDate = header(req, 'x-amz-date') ?? '';
    if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day)
      return 'x-amz-date missing or outside the credential scope';
    const date = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    if (Math.abs(Date.now() - date.getTime()) > 15 * 60_000) return 'request time too skewed';
    const signedNames = signedHeaderList.split(';');
    for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
      if (!signedNames.includes(required)) return `${required} is not signed`;
    }
    const payloadSha256 = header(req, 'x-amz-content-sha256') ?? '';
    if (payloadSha256 !== 'UNSIGNED-PAYLOAD' && payloadSha256 !== createHash('sha256').update(body).digest('hex'))
      return 'XAmzContentSHA256Mismatch';
    const headers: Record<string, string> = {};
    for (const name of signedNames) {
      const value = header(req, name);
      if (value === undefined) return `signed header ${name} is missing`;
      headers[name] = value;
    }
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    const expected = signV4(
      { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] ?? '/', query, headers, payloadSha256 },
      { accessKeyId, secretAccessKey: this.options.credentials.secretAccessKey },
      { region, service: 's3', date },
    );
    if (expected.signedHeaders !== signedHeaderList) return 'signed header list differs';
    return expected.signature === signature ? undefined : 'signature does not match';
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, status: number, code: string, message: string, headOnly = false): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(headOnly ? undefined : xml);
}
