import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS) carry a session token, signed as x-amz-security-token. */
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  /** The request path exactly as sent (already URI-encoded), e.g. /bucket/sha256/ab/abcd. */
  path: string;
  /** Query parameters (raw, unencoded). */
  query?: Record<string, string>;
  /** Headers to sign; must include host. Names are case-insensitive. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body, or UNSIGNED-PAYLOAD; also sent as x-amz-content-sha256. */
  payloadSha256: string;
}

export interface SigningScope {
  region: string;
  service: string;
  /** The signing time; its UTC second is what gets signed. */
  date: Date;
}

export interface Signature {
  authorization: string;
  /** 20130524T000000Z */
  amzDate: string;
  signature: string;
  signedHeaders: string;
  canonicalRequest: string;
  stringToSign: string;
}

export const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * AWS Signature Version 4 (header form), as specified in "Authenticating Requests: Using the Authorization
 * Header" for S3. The caller sends x-amz-date and x-amz-content-sha256; both are signed here.
 */
export function signV4(request: SignableRequest, credentials: AwsCredentials, scope: SigningScope): Signature {
  const amzDate = toAmzDate(scope.date);
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers['x-amz-date'] = amzDate;
  headers['x-amz-content-sha256'] = request.payloadSha256;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  if (!headers.host) throw new Error('SigV4: the host header must be signed');

  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((name) => `${name}:${canonicalHeaderValue(headers[name] ?? '')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method.toUpperCase(),
    request.path || '/',
    canonicalQuery(request.query ?? {}),
    canonicalHeaders,
    signedHeaders,
    request.payloadSha256,
  ].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = deriveSigningKey(credentials.secretAccessKey, day, scope.region, scope.service);
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope},SignedHeaders=${signedHeaders},Signature=${signature}`,
    amzDate,
    signature,
    signedHeaders,
    canonicalRequest,
    stringToSign,
  };
}

export function deriveSigningKey(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  const dateKey = hmac(`AWS4${secretAccessKey}`, day);
  const regionKey = hmac(dateKey, region);
  const serviceKey = hmac(regionKey, service);
  return hmac(serviceKey, 'aws4_request');
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters stay, everything else is %XX (upper case). */
export function uriEncode(value: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(ch) || (keepSlash && ch === '/')) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** S3 object keys are encoded once, segment by segment, slashes kept. */
export function encodeS3Path(path: string): string {
  return uriEncode(path, true);
}

export function toAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function canonicalQuery(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}
