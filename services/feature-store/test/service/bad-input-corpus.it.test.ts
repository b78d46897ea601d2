// Bad input per HTTP endpoint of the feature store (a table and a seeded fast-check property each): every answer
// is a 4xx with a JSON error body, never a 5xx, and the service stays live. Then fields named like
// Object.prototype members, end to end: registered, validated, computed and served.
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { type DataValidatedV1, type DatasetRegisteredV1, EventTypes } from '@mlops/contracts';
import { EventProducer, newEvent } from '@mlops/messaging';
import { authorized } from '@mlops/testing';
import { createFeatureStoreApp } from '../../src/app';
import { CatalogStore } from '../../src/infrastructure/catalog-store';
import { eventually, runId, testConfig } from './support';

const SEED = 20_261_201;
const RUNS = 25;
const SOURCE = 'urn:mlops:test:feature-store-corpus';

let app: INestApplication;
let base: string;
let dirs: string[] = [];
let dataset: string;

interface Answer {
  status: number;
  body: unknown;
}

async function call(method: string, path: string, body?: string, contentType = 'application/json'): Promise<Answer> {
  const res = await fetch(
    `${base}${path}`,
    authorized({ method, ...(body !== undefined ? { headers: { 'content-type': contentType }, body } : {}) }),
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

function assertClientError(answer: Answer, what: string): void {
  assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.ok(typeof answer.body === 'object' && answer.body !== null, what);
}

const protoSchema = JSON.parse(
  '{"type":"object","required":["id","at"],"properties":{"id":{"type":"string"},"at":{"type":"string"},' +
    '"constructor":{"type":["number","null"]},"toString":{"type":["number","null"]},' +
    '"__proto__":{"type":["number","null"]},"hasOwnProperty":{"type":["string","null"]}}}',
) as DatasetRegisteredV1['recordSchema'];

async function registerDataset(name: string): Promise<void> {
  const data: DatasetRegisteredV1 = {
    dataset: name,
    version: 1,
    role: 'features',
    recordSchema: protoSchema,
    entityKeyField: 'id',
    eventTimeField: 'at',
    sensitiveFields: [],
    registeredAt: new Date().toISOString(),
  };
  await app
    .get(EventProducer)
    .publishMany([newEvent(EventTypes.DatasetRegisteredV1, data, { source: SOURCE, subject: name })]);
  await eventually(async () => (await app.get(CatalogStore).dataset(name)) !== undefined, 'the registration');
}

const view = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  source: { dataset },
  ttl: '1d',
  features: [{ kind: 'field', name: 'c', field: 'constructor' }],
  ...overrides,
});
const deep = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const nastyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', '%00', 'A'.repeat(300), ' ', '\u0000'),
);
// '.' and '..' are left out: URLs resolve them before they are sent.
const nastySegment = nastyText
  .filter((text) => text !== '.' && text !== '..')
  .map((text) => encodeURIComponent(text) || '%20');

before(async () => {
  const setup = await testConfig();
  dirs = [setup.clickhouseDir, setup.artifactDir];
  app = await createFeatureStoreApp(setup.config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  dataset = `${runId('corpus')}_proto`;
  await registerDataset(dataset);
});

after(async () => {
  await app?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('POST /feature-views', () => {
  const cases: Array<[string, () => string, string?]> = [
    ['malformed JSON', () => '{"name":'],
    ['a text body', () => 'name=x', 'text/plain'],
    ['a JSON scalar', () => '42'],
    ['unknown keys', () => JSON.stringify(view(runId('v'), { extra: 1 }))],
    ['a TTL of 1e308', () => JSON.stringify(view(runId('v'), { ttl: 1e308 }))],
    ['a TTL of P99999999999999999999D', () => JSON.stringify(view(runId('v'), { ttl: 'P99999999999999999999D' }))],
    ['a TTL of 11 years', () => JSON.stringify(view(runId('v'), { ttl: 'P4015D' }))],
    ['a TTL of 1e999', () => JSON.stringify(view(runId('v'))).replace('"1d"', '1e999')],
    [
      'a window out of range',
      () =>
        JSON.stringify(
          view(runId('v'), {
            features: [{ kind: 'aggregate', name: 'n', field: 'toString', function: 'count', window: 'P367D' }],
          }),
        ),
    ],
    [
      'a window of null',
      () =>
        JSON.stringify(
          view(runId('v'), {
            features: [{ kind: 'aggregate', name: 'n', field: 'toString', function: 'count', window: null }],
          }),
        ),
    ],
    [
      'a window that is an object',
      () =>
        JSON.stringify(
          view(runId('v'), {
            features: [{ kind: 'aggregate', name: 'n', field: 'toString', function: 'count', window: { h: 1 } }],
          }),
        ),
    ],
    ['a NUL in the view name', () => JSON.stringify(view('a\u0000b'))],
    ['a prototype key', () => `{"__proto__":{"name":"x"},"source":{"dataset":"${dataset}"}}`],
    ['deep nesting', () => `{"name":"deep","features":${deep(10_000)}}`],
    ['an oversized body', () => `{"name":"big","description":"${'x'.repeat(3_000_000)}"}`],
    ['an unknown dataset', () => JSON.stringify({ ...view(runId('v')), source: { dataset: 'no_such_dataset' } })],
  ];
  for (const [what, body, contentType] of cases) {
    test(`${what}: a 4xx`, async () => {
      assertClientError(await call('POST', '/feature-views', body(), contentType), what);
    });
  }

  test('property: any JSON body is refused or creates a view, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json({ maxDepth: 4 }),
          fc
            .record({
              ttl: fc.oneof(fc.double(), fc.string({ maxLength: 30 }), fc.constantFrom('P99999999999999999999D')),
              window: fc.oneof(fc.double(), fc.string({ maxLength: 30 }), fc.constant(null)),
            })
            .map(({ ttl, window }) =>
              JSON.stringify(
                view(runId('p'), {
                  ttl,
                  features: [{ kind: 'aggregate', name: 'n', field: 'toString', function: 'sum', window }],
                }),
              ),
            ),
        ),
        async (body) => {
          const answer = await call('POST', '/feature-views', body);
          if (answer.status !== 201) assertClientError(answer, body.slice(0, 160));
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('GET /feature-views/:name and /feature-views/:name/entities/:id', () => {
  test('property: names and entity ids with NUL, control characters or out of range are a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(nastySegment, nastySegment, async (name, id) => {
        assertClientError(await call('GET', `/feature-views/${name}`), `view ${name}`);
        assertClientError(await call('GET', `/feature-views/${name}/entities/${id}`), `view ${name} entity ${id}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  test('versions and asOf out of range are a 4xx', async () => {
    for (const query of ['version=2147483648', 'version=0', 'version=%00', 'asOf=0000-01-01', 'asOf=%00', 'x=1']) {
      assertClientError(await call('GET', `/feature-views/nosuchview/entities/e-1?${query}`), query);
    }
    assertClientError(await call('GET', '/feature-views/a%00b/entities/e%00'), 'NUL');
  });
});

describe('after the corpus', () => {
  test('/health/live still answers 200', async () => {
    assert.equal((await fetch(`${base}/health/live`)).status, 200);
  });
});

describe('fields named like Object.prototype members, end to end', () => {
  test('a view computes from constructor, toString, __proto__ and hasOwnProperty fields and serves them', async () => {
    const name = `${runId('proto')}_view`;
    const created = await call(
      'POST',
      '/feature-views',
      JSON.stringify(
        view(name, {
          features: [
            { kind: 'field', name: 'ctor', field: 'constructor' },
            { kind: 'field', name: 'to_string', field: 'toString' },
            { kind: 'field', name: 'proto', field: '__proto__' },
            { kind: 'field', name: 'has_own', field: 'hasOwnProperty' },
            { kind: 'aggregate', name: 'proto_sum', field: '__proto__', function: 'sum', window: '1h' },
          ],
        }),
      ),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const version = (created.body as { version: number }).version;
    await eventually(
      async () =>
        ((await call('GET', `/feature-views/${name}`)).body as { servingVersion?: number }).servingVersion === version,
      'the view to serve',
    );
    const entity = `e-${randomUUID()}`;
    const eventTime = new Date(Date.now() - 60_000).toISOString();
    const record = JSON.parse(
      JSON.stringify({ id: entity, at: eventTime, constructor: 1, toString: 2, PROTO: 3, hasOwnProperty: 'x' }).replace(
        '"PROTO"',
        '"__proto__"',
      ),
    ) as DataValidatedV1['record'];
    const data: DataValidatedV1 = {
      dataset,
      datasetVersion: 1,
      role: 'features',
      entityId: entity,
      eventTime,
      record,
      sourceEventId: randomUUID(),
      validatedAt: new Date().toISOString(),
    };
    await app
      .get(EventProducer)
      .publishMany([newEvent(EventTypes.DataValidatedV1, data, { source: SOURCE, subject: dataset })]);
    const served = await eventually(async () => {
      const answer = await call('GET', `/feature-views/${name}/entities/${entity}`);
      return answer.status === 200 ? answer : undefined;
    }, 'the online vector');
    const features = (served.body as { features: Record<string, unknown> }).features;
    assert.deepEqual(
      [features.ctor, features.to_string, features.proto, features.has_own, features.proto_sum],
      [1, 2, 3, 'x', 3],
    );
  });
});
