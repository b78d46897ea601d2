import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_PAYLOAD_SHA256, deriveSigningKey, signV4, uriEncode } from '../src';

// The GET Object example of "Authenticating Requests: Using the Authorization Header (AWS Signature
// Version 4)" in the Amazon S3 API reference: published inputs and the published signature.
test('signs the AWS documented GET Object example to the documented signature', () => {
  const signed = signV4(
    {
      method: 'GET',
      path: '/test.txt',
      headers: { Host: 'examplebucket.s3.amazonaws.com', Range: 'bytes=0-9' },
      payloadSha256: EMPTY_PAYLOAD_SHA256,
    },
    { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    { region: 'us-east-1', service: 's3', date: new Date('2013-05-24T00:00:00Z') },
  );
  assert.equal(
    signed.canonicalRequest,
    [
      'GET',
      '/test.txt',
      '',
      'host:examplebucket.s3.amazonaws.com',
      'range:bytes=0-9',
      `x-amz-content-sha256:${EMPTY_PAYLOAD_SHA256}`,
      'x-amz-date:20130524T000000Z',
      '',
      'host;range;x-amz-content-sha256;x-amz-date',
      EMPTY_PAYLOAD_SHA256,
    ].join('\n'),
  );
  assert.equal(
    signed.stringToSign,
    'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
  );
  assert.equal(signed.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  assert.equal(
    signed.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
});

test('a different secret, day or region gives a different signing key', () => {
  const base = deriveSigningKey('secret', '20130524', 'us-east-1', 's3').toString('hex');
  assert.notEqual(deriveSigningKey('secreT', '20130524', 'us-east-1', 's3').toString('hex'), base);
  assert.notEqual(deriveSigningKey('secret', '20130525', 'us-east-1', 's3').toString('hex'), base);
  assert.notEqual(deriveSigningKey('secret', '20130524', 'eu-west-1', 's3').toString('hex'), base);
});

test('URI encoding keeps unreserved characters and percent-encodes the rest in upper case', () => {
  assert.equal(uriEncode('AZaz09-._~'), 'AZaz09-._~');
  assert.equal(uriEncode('a b/c+é'), 'a%20b%2Fc%2B%C3%A9');
  assert.equal(uriEncode('p/q r', true), 'p/q%20r');
});
