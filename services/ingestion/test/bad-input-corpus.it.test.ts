// Bad input per HTTP endpoint: a table of known mistakes and a seeded fast-check property each. Every answer is
// a 4xx with a JSON error body (or a per-record 207 for records), never a 5xx, and the service stays live.
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { authorized, uid } from '@mlops/testing';
import { createIngestionApp } from '../src/app';
import { testConfig } from './support';

const RUN = `corp${randomUUID().slice(0, 8)}`;
const SEED = 20_261_201;
const RUNS = 25;

let app: INestApplication;
let base: string;
let name: string;

const definition = {
  role: 'features',
  recordSchema: {
    type: 'object',
    required: ['customer_id', 'event_time'],
    additionalProperties: false,
    properties: {
      customer_id: { type: 'string' },
      event_time: { type: 'string', format: 'date-time' },
      spend: { type: ['number', 'null'] },
    },
  },
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
};

interface Answer {
  status: number;
  body: unknown;
}

async function call(method: string, path: string, body?: string | Buffer, contentType?: string): Promise<Answer> {
  const res = await fetch(
    `${base}${path}`,
    authorized({
      method,
      ...(contentType !== undefined ? { headers: { 'content-type': contentType } } : {}),
      ...(body !== undefined ? { body } : {}),
    }),
  );
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    assert.fail(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed };
}

/** A 4xx with a JSON error body naming the error. */
function assertClientError(answer: Answer, what: string): void {
  assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.ok(typeof answer.body === 'object' && answer.body !== null, what);
}

/** Records are judged one by one: a 4xx for the request, or 200/207 with per-record results; never a 5xx. */
function assertAnsweredPerRecordOrRefused(answer: Answer, what: string): void {
  if (answer.status === 200 || answer.status === 207) {
    assert.ok(Array.isArray((answer.body as { results?: unknown }).results), what);
    return;
  }
  assertClientError(answer, what);
}

const deep = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
/** Strings with NUL, control characters, percent escapes and prototype names, for names and ids in paths. */
const nastyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', '%00', '..', 'a%2Fb', 'A'.repeat(300), ' ', '\u0000'),
);
// '.' and '..' are left out: URLs resolve them before they are sent.
const nastySegment = nastyText
  .filter((text) => text !== '.' && text !== '..')
  .map((text) => encodeURIComponent(text) || '%20');

before(async () => {
  app = await createIngestionApp(testConfig({ INGESTION_MAX_BODY_BYTES: '65536', INGESTION_MAX_BATCH: '50' }));
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  name = uid(`${RUN}_ds`);
  const res = await call('PUT', `/datasets/${name}`, JSON.stringify(definition), 'application/json');
  assert.equal(res.status, 201, JSON.stringify(res.body));
});

after(async () => {
  await app?.close();
});

describe('POST /datasets/:name/records', () => {
  // '$ds' stands for the dataset registered before the tests run.
  const cases: Array<[string, string, string | Buffer, string | undefined, number]> = [
    ['malformed JSON', '$ds', '{"customer_id":', 'application/json', 400],
    ['no content type', '$ds', '{}', undefined, 415],
    ['a content type other than JSON', '$ds', 'customer_id=1', 'application/x-www-form-urlencoded', 415],
    ['an empty body', '$ds', '', 'application/json', 400],
    ['a JSON scalar', '$ds', '42', 'application/json', 400],
    ['an oversized body', '$ds', Buffer.alloc(70_000, 'a'), 'application/json', 413],
    ['too many records', '$ds', JSON.stringify(Array.from({ length: 51 }, () => ({}))), 'application/json', 413],
    [
      '1e999 in a record',
      '$ds',
      '{"customer_id":"c","event_time":"2025-11-20T07:59:12Z","spend":1e999}',
      'application/json',
      207,
    ],
    [
      'a deep record',
      '$ds',
      `{"customer_id":"c","event_time":"2025-11-20T07:59:12Z","spend":${deep(20_000)}}`,
      'application/json',
      207,
    ],
    ['a deep array body', '$ds', deep(20_000), 'application/json', 207],
    [
      'a NUL entity id',
      '$ds',
      '{"customer_id":"\\u0000","event_time":"2025-11-20T07:59:12Z"}',
      'application/json',
      207,
    ],
    ['year 0000', '$ds', '{"customer_id":"c","event_time":"0000-01-01T00:00:00Z"}', 'application/json', 207],
    [
      'prototype keys',
      '$ds',
      '{"__proto__":{"x":1},"constructor":1,"customer_id":"c","event_time":"2025-11-20T07:59:12Z"}',
      'application/json',
      207,
    ],
    ['a NUL in the dataset name', 'a%00b', '{}', 'application/json', 400],
    ['an unknown dataset', 'nosuchdataset', '{}', 'application/json', 404],
  ];
  for (const [what, dataset, body, contentType, status] of cases) {
    test(`${what}: ${status}`, async () => {
      const path = `/datasets/${dataset === '$ds' ? name : dataset}/records`;
      const answer = await call('POST', path, body, contentType);
      assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      assertAnsweredPerRecordOrRefused(answer, what);
    });
  }

  test('versions out of range are 400', async () => {
    for (const version of ['0', '-1', '2147483648', '1e3', '99999999999999999999', '%00']) {
      const answer = await call('POST', `/datasets/${name}/records?version=${version}`, '{}', 'application/json');
      assertClientError(answer, `version=${version}`);
    }
  });

  test('property: any JSON or text body, any content type, is answered per record or refused, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ unit: 'binary', maxLength: 200 })),
        fc.constantFrom('application/json', 'application/x-ndjson', 'text/plain', 'application/json; charset=latin1'),
        async (body, contentType) => {
          assertAnsweredPerRecordOrRefused(
            await call('POST', `/datasets/${name}/records`, body, contentType),
            `${contentType} ${body.slice(0, 80)}`,
          );
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  test('property: records with arbitrary fields and values are answered per record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.dictionary(nastyText, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), {
          minLength: 1,
          maxLength: 5,
        }),
        async (records) => {
          const answer = await call('POST', `/datasets/${name}/records`, JSON.stringify(records), 'application/json');
          assertAnsweredPerRecordOrRefused(answer, JSON.stringify(records).slice(0, 120));
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('PUT /datasets/:name', () => {
  const cases: Array<[string, string, string, string]> = [
    ['malformed JSON', 'ok_name', '{"role":', 'application/json'],
    ['a text body', 'ok_name', 'role=features', 'text/plain'],
    ['unknown keys', 'ok_name', JSON.stringify({ ...definition, extra: 1 }), 'application/json'],
    ['a NUL in the name', 'a%00b', JSON.stringify(definition), 'application/json'],
    ['a control character in the name', 'a%1Bb', JSON.stringify(definition), 'application/json'],
    ['a deep schema', 'ok_name', `{"role":"features","recordSchema":${deep(10_000)}}`, 'application/json'],
    [
      'a huge number',
      'ok_name',
      '{"role":"features","recordSchema":{"type":"object","maxProperties":1e999},"entityKeyField":"a","eventTimeField":"b"}',
      'application/json',
    ],
    ['a prototype key', 'ok_name', `{"__proto__":{"role":"features"},"recordSchema":{}}`, 'application/json'],
    ['an oversized body', 'ok_name', `{"description":"${'x'.repeat(2_000_000)}"}`, 'application/json'],
  ];
  for (const [what, dataset, body, contentType] of cases) {
    test(`${what}: a 4xx`, async () => {
      assertClientError(await call('PUT', `/datasets/${dataset}_${RUN}`, body, contentType), what);
    });
  }

  test('property: any JSON body is refused or registered, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 4 }), async (body) => {
        const answer = await call('PUT', `/datasets/${uid(RUN)}`, body, 'application/json');
        if (answer.status !== 201) assertClientError(answer, body.slice(0, 120));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('GET /datasets/:name and /datasets/:name/versions/:version', () => {
  test('property: names and versions with NUL, control characters or out of range are a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        nastySegment,
        fc.oneof(nastySegment, fc.bigInt({ min: 2n ** 31n }).map(String), fc.constantFrom('2147483648', '0', '1e3')),
        async (segment, version) => {
          assertClientError(await call('GET', `/datasets/${segment}`), `name ${segment}`);
          assertClientError(await call('GET', `/datasets/${name}/versions/${version}`), `version ${version}`);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  test('GET /datasets with an unknown query is a 4xx or the list, never a 5xx', async () => {
    const answer = await call('GET', '/datasets?limit=%00&x=1e999');
    assert.ok(answer.status < 500, String(answer.status));
  });
});

describe('after the corpus', () => {
  test('/health/live still answers 200', async () => {
    const res = await fetch(`${base}/health/live`);
    assert.equal(res.status, 200);
  });
});
