// Client mistakes answered per record, retries without recordId, prototype-named fields, redacted dead letters.
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { EventTypes, dlqTopicOf } from '@mlops/contracts';
import { authorized, header, positionGroupAt, readTopic, testKafka, uid } from '@mlops/testing';
import { createIngestionApp } from '../src/app';
import { HASH_KEY, TopicTap, eventually, testConfig } from './support';

const RUN = `hard${randomUUID().slice(0, 8)}`;
const dataset = (name: string): string => uid(`${RUN}_${name}`);
const VALIDATED = EventTypes.DataValidatedV1;
const REJECTED = EventTypes.DataRejectedV1;
const RECORD = EventTypes.DataRecordV1;
const AT = '2025-11-20T07:59:12Z';
const hmac = (value: string): string => createHmac('sha256', HASH_KEY).update(value).digest('hex');

const definition = {
  role: 'features',
  recordSchema: {
    type: 'object',
    required: ['customer_id', 'event_time'],
    additionalProperties: false,
    properties: {
      customer_id: { type: 'string' },
      event_time: { type: 'string', format: 'date-time' },
      email: { type: ['string', 'null'] },
      spend: { type: ['number', 'null'] },
      tags: { type: ['string', 'null'] },
    },
  },
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
  sensitiveFields: { email: 'hash' },
};

let app: INestApplication;
let base: string;
const tap = new TopicTap([VALIDATED, REJECTED], RUN);

async function registered(name: string, body: unknown = definition): Promise<string> {
  const unique = dataset(name);
  const res = await fetch(
    `${base}/datasets/${unique}`,
    authorized({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  );
  assert.equal(res.status, 201, await res.text());
  return unique;
}

async function send(
  name: string,
  body: string,
  contentType = 'application/json',
): Promise<{ status: number; body: any }> {
  const res = await fetch(
    `${base}/datasets/${name}/records`,
    authorized({ method: 'POST', headers: { 'content-type': contentType }, body }),
  );
  return { status: res.status, body: await res.json() };
}

const line = (id: string, extra = ''): string => `{"customer_id":"${id}","event_time":"${AT}"${extra}}`;

before(async () => {
  await tap.start();
  const config = testConfig();
  await positionGroupAt(testKafka('ingestion-hardening-position'), config.CONSUMER_GROUP!, [RECORD]);
  app = await createIngestionApp(config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
});

after(async () => {
  await app?.close();
  await tap.stop();
});

describe('client mistakes are answered per record', () => {
  test('a number out of range (1e999) rejects its record only, with its path, and the others are accepted', async () => {
    const name = await registered('nonfinite');
    const answer = await send(name, `[${line('c-1')},${line('c-2', ',"spend":1e999')}]`);
    assert.equal(answer.status, 207, JSON.stringify(answer.body));
    assert.deepEqual(
      answer.body.results.map((r: any) => [r.status, r.errors?.map((e: any) => [e.kind, e.path])]),
      [
        ['accepted', undefined],
        ['rejected', [['type_mismatch', '/spend']]],
      ],
    );
    const rejected = await eventually(() => tap.of(REJECTED, name)[0], 'the rejection', 60_000);
    assert.equal((rejected.data.record as Record<string, unknown>).spend, null, 'carried as null');
  });

  test('a 10k-deep NDJSON line rejects its record only; the other lines count', async () => {
    const name = await registered('deep');
    const deep = line('c-deep', `,"tags":${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    const answer = await send(name, [line('c-1'), deep, line('c-3')].join('\n'), 'application/x-ndjson');
    assert.equal(answer.status, 207, JSON.stringify(answer.body));
    assert.deepEqual(
      answer.body.results.map((r: any) => r.status),
      ['accepted', 'rejected', 'accepted'],
    );
    assert.equal(answer.body.results[1].errors[0].kind, 'constraint_violation');
    assert.match(answer.body.results[1].errors[0].message, /deeper than 32/);
  });

  test('entity ids the feature store cannot store and event times out of range are rejected with the reason', async () => {
    const name = await registered('ids-times');
    const body = [
      '{"customer_id":"c\\u00001","event_time":"2025-11-20T07:59:12Z"}',
      '{"customer_id":"c-2","event_time":"0000-01-01T00:00:00Z"}',
      `{"customer_id":"c-3","event_time":"${new Date(Date.now() + 3 * 86_400_000).toISOString()}"}`,
      `{"customer_id":"${'x'.repeat(257)}","event_time":"2025-11-20T07:59:12Z"}`,
    ].join('\n');
    const answer = await send(name, body, 'application/x-ndjson');
    assert.equal(answer.status, 207);
    assert.deepEqual(
      answer.body.results.map((r: any) => r.errors.map((e: any) => [e.kind, e.path])),
      [
        [['constraint_violation', '/customer_id']],
        [['invalid_event_time', '/event_time']],
        [['invalid_event_time', '/event_time']],
        [['constraint_violation', '/customer_id']],
      ],
    );
  });

  test('NUL in a dataset name and an out-of-range version are 400, not 500', async () => {
    const name = await registered('names');
    const nul = await fetch(`${base}/datasets/a%00b/records`, authorized({ method: 'POST', body: '{}' }));
    assert.equal(nul.status, 400);
    const version = await fetch(
      `${base}/datasets/${name}/records?version=2147483648`,
      authorized({ method: 'POST', headers: { 'content-type': 'application/json' }, body: line('c-1') }),
    );
    assert.equal(version.status, 400);
    assert.equal((await fetch(`${base}/datasets/${name}/versions/99999999999`, authorized())).status, 400);
  });
});

describe('records without recordId are identified by their content', () => {
  test('the same batch posted three times gives one validated event per record', async () => {
    const name = await registered('retries');
    const batch = `[${line('c-r1', ',"spend":1')},${line('c-r2', ',"spend":2')}]`;
    const answers = [await send(name, batch), await send(name, batch), await send(name, batch)];
    assert.deepEqual(
      answers.map((a) => [a.status, a.body.accepted, a.body.duplicates]),
      [
        [200, 2, 0],
        [200, 2, 2],
        [200, 2, 2],
      ],
    );
    // Markers with the same entity ids (same partitions), sent after: once seen, any copy would have been too.
    await send(name, `[${line('c-r1', ',"spend":99')},${line('c-r2', ',"spend":99')}]`);
    await eventually(
      () => tap.of(VALIDATED, name).filter((e) => (e.data.record as { spend: number }).spend === 99).length === 2,
      'the markers',
      60_000,
    );
    const firsts = tap.of(VALIDATED, name).filter((e) => (e.data.record as { spend: number }).spend !== 99);
    assert.deepEqual(firsts.map((e) => e.data.entityId).sort(), ['c-r1', 'c-r2']);
  });
});

describe('fields named like Object.prototype members', () => {
  test('a dataset with constructor, toString, __proto__ and hasOwnProperty fields validates records with and without them', async () => {
    const protoSchema = JSON.parse(
      JSON.stringify({
        type: 'object',
        required: ['id', 'at'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          at: { type: 'string' },
          constructor: { type: ['string', 'null'] },
          toString: { type: ['number', 'null'] },
          hasOwnProperty: { type: ['boolean', 'null'] },
          PROTO: { type: ['string', 'null'] },
        },
      }).replace('"PROTO"', '"__proto__"'),
    ) as unknown;
    const name = await registered('proto', {
      role: 'features',
      recordSchema: protoSchema,
      entityKeyField: 'id',
      eventTimeField: 'at',
      sensitiveFields: JSON.parse('{"__proto__":"hash"}') as unknown,
    });
    const answer = await send(
      name,
      [
        `{"id":"p-1","at":"${AT}","constructor":"c","toString":3,"hasOwnProperty":true,"__proto__":"secret"}`,
        `{"id":"p-2","at":"${AT}"}`,
        `{"id":"p-3","at":"${AT}","toString":"not a number"}`,
      ].join('\n'),
      'application/x-ndjson',
    );
    assert.equal(answer.status, 207, JSON.stringify(answer.body));
    assert.deepEqual(
      answer.body.results.map((r: any) => [r.status, r.errors?.map((e: any) => e.path)]),
      [
        ['accepted', undefined],
        ['accepted', undefined],
        ['rejected', ['/toString']],
      ],
    );
    const validated = await eventually(
      () => tap.of(VALIDATED, name).length === 2 && tap.of(VALIDATED, name),
      'both validated events',
      60_000,
    );
    const byId = new Map(validated.map((e) => [e.data.entityId, e.data.record as Record<string, unknown>]));
    const first = byId.get('p-1')!;
    assert.deepEqual(
      [
        first.constructor,
        first.toString,
        first.hasOwnProperty,
        Object.getOwnPropertyDescriptor(first, '__proto__')?.value,
      ],
      ['c', 3, true, hmac('secret')],
    );
    const second = byId.get('p-2')!;
    assert.deepEqual(
      [second.constructor, second.toString, second.hasOwnProperty],
      [null, null, null],
      'absent fields are null, not the inherited functions',
    );
  });
});

describe('dead letters of records', () => {
  const kafka = testKafka('ingestion-hardening-dlq');

  async function poisonAndReadDeadLetter(name: string): Promise<string> {
    const producer = kafka.producer();
    await producer.connect();
    const id = randomUUID();
    try {
      // entityId is missing: the event breaks its contract and is dead-lettered undecoded.
      await producer.send({
        topic: RECORD,
        messages: [
          {
            key: 'c-poison',
            value: JSON.stringify({ dataset: name, record: { customer_id: 'c-poison', email: 'poison@example.com' } }),
            headers: {
              ce_specversion: '1.0',
              ce_id: id,
              ce_source: 'urn:mlops:test-upstream',
              ce_type: RECORD,
              ce_time: new Date().toISOString(),
              'content-type': 'application/json',
            },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const [letter] = await readTopic(
      kafka,
      dlqTopicOf(RECORD),
      (m) => header(m, 'ce_id') === id,
      (matched) => matched.length > 0,
      90_000,
    );
    assert.equal(header(letter!, 'dlq_redacted'), 'true');
    return letter!.value?.toString() ?? '';
  }

  test("a poison record event's dead letter has its email hashed, never in clear", async () => {
    const name = await registered('dlq');
    const value = await poisonAndReadDeadLetter(name);
    assert.ok(!value.includes('poison@example.com'), value);
    assert.equal((JSON.parse(value) as { record: { email: string } }).record.email, hmac('poison@example.com'));
  });

  test('a poison record event of an unknown dataset keeps no record in its dead letter', async () => {
    const value = await poisonAndReadDeadLetter(dataset('unregistered'));
    assert.ok(!value.includes('poison@example.com'), value);
    assert.ok(!value.includes('c-poison'), value);
  });
});
