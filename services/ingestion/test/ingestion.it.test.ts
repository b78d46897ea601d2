import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { EventTypes } from '@mlops/contracts';
import { EventProducer, newEvent } from '@mlops/messaging';
import type { DataSource } from 'typeorm';
import { POSTGRES } from '@mlops/storage';
import { createIngestionApp } from '../src/app';
import { AcceptedRecords } from '../src/infrastructure/accepted-records';
import { IngestRecordEventService } from '../src/records/ingest-records/ingest-record-event.service';
import { authorized, positionGroupAt, testKafka, uid } from '@mlops/testing';
import { HASH_KEY, type Seen, TopicTap, eventually, testConfig } from './support';

const RUN = `ing${randomUUID().slice(0, 8)}`;
/** A dataset name of this run (the tap keeps events whose subject starts with RUN) that no other test uses. */
const dataset = (name: string): string => uid(`${RUN}_${name}`);
const VALIDATED = EventTypes.DataValidatedV1;
const REJECTED = EventTypes.DataRejectedV1;
const REGISTERED = EventTypes.DatasetRegisteredV1;
const QUALITY = EventTypes.DataQualityV1;
const MAX_BODY = 4_096;
const MAX_BATCH = 5;
const QUALITY_WINDOW_MS = 1_000;

const recordSchema = {
  type: 'object',
  required: ['customer_id', 'event_time', 'tenure_days', 'plan'],
  properties: {
    customer_id: { type: 'string' },
    event_time: { type: 'string', format: 'date-time' },
    email: { type: ['string', 'null'], format: 'email' },
    ssn: { type: ['string', 'null'] },
    tenure_days: { type: 'integer', minimum: 0 },
    monthly_spend: { type: ['number', 'null'], minimum: 0 },
    plan: { enum: ['basic', 'premium', 'enterprise'] },
  },
  additionalProperties: false,
};
const definition = {
  role: 'features',
  recordSchema,
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
  sensitiveFields: { email: 'hash', ssn: 'drop' },
  description: 'customer activity for the ingestion tests',
  owner: 'ingestion-tests',
};
const good = (id: string, extra: Record<string, unknown> = {}) => ({
  customer_id: id,
  event_time: '2025-11-20T07:59:12Z',
  email: `${id}@example.com`,
  ssn: '123-45-6789',
  tenure_days: 412,
  monthly_spend: null,
  plan: 'premium',
  ...extra,
});
const hmac = (value: string): string => createHmac('sha256', HASH_KEY).update(value).digest('hex');

let app: INestApplication;
let base: string;
const tap = new TopicTap([VALIDATED, REJECTED, REGISTERED, QUALITY], RUN);

async function register(name: string, body: unknown = definition): Promise<Response> {
  return fetch(
    `${base}/datasets/${name}`,
    authorized({
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

async function send(
  name: string,
  body: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: any }> {
  const res = await fetch(
    `${base}/datasets/${name}/records`,
    authorized({
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
  return { status: res.status, body: await res.json() };
}

/** A dataset of its own for one test, registered with the shared definition. */
async function registered(name: string): Promise<string> {
  const unique = dataset(name);
  const res = await register(unique);
  assert.equal(res.status, 201, await res.text());
  return unique;
}

const json = async (res: Response): Promise<any> => res.json();

/** Waits for the validated events of these record ids; ends at a marker sent after them, so a copy would have been seen. */
async function validatedOnceEach(name: string, recordIds: string[], marker: string): Promise<Seen[]> {
  await eventually(
    () => tap.of(VALIDATED, name).some((e) => e.data.recordId === marker),
    `the marker ${marker}`,
    90_000,
  );
  // Events keyed apart sit on other partitions: read every partition up to where it is now.
  await tap.readUpToNow(VALIDATED);
  return tap.of(VALIDATED, name).filter((e) => recordIds.includes(String(e.data.recordId)));
}

before(async () => {
  await tap.start();
  const config = testConfig({
    INGESTION_MAX_BODY_BYTES: String(MAX_BODY),
    INGESTION_MAX_BATCH: String(MAX_BATCH),
    INGESTION_QUALITY_INTERVAL_MS: String(QUALITY_WINDOW_MS),
  });
  // The app's fresh consumer group reads records from the test's start, not the topic's whole history.
  await positionGroupAt(testKafka('ingestion-test-position'), config.CONSUMER_GROUP!, [EventTypes.DataRecordV1]);
  app = await createIngestionApp(config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
});

after(async () => {
  await app?.close();
  await tap.stop();
});

describe('dataset registration', () => {
  test('a new dataset is registered as version 1 and announced with its sensitive fields', async () => {
    const name = dataset('new');
    const res = await register(name);
    assert.equal(res.status, 201);
    const body = await json(res);
    assert.deepEqual([body.dataset, body.version, body.sensitiveFields], [name, 1, definition.sensitiveFields]);
    const [event] = await eventually(
      () => tap.of(REGISTERED, name).length > 0 && tap.of(REGISTERED, name),
      'the dataset.registered event',
    );
    assert.deepEqual([event!.key, event!.data.version, event!.data.sensitiveFields], [name, 1, ['email', 'ssn']]);
  });

  test('registering the same definition again changes nothing and says so', async () => {
    const name = await registered('same');
    const again = await register(name);
    assert.equal(again.status, 200);
    assert.deepEqual(await json(again).then((b) => [b.version, b.unchanged]), [1, true]);
  });

  test('a compatible definition becomes version 2, announced after version 1', async () => {
    const name = await registered('compatible');
    const withOptionalField = {
      ...definition,
      recordSchema: {
        ...recordSchema,
        properties: { ...recordSchema.properties, country: { type: ['string', 'null'] } },
      },
    };
    const second = await register(name, withOptionalField);
    assert.equal(second.status, 201);
    assert.equal((await json(second)).version, 2);
    const events = await eventually(
      () => tap.of(REGISTERED, name).length >= 2 && tap.of(REGISTERED, name),
      'two dataset.registered events',
    );
    assert.deepEqual(
      events.map((e) => e.data.version),
      [1, 2],
    );
  });

  test('an incompatible definition is refused with every reason and not stored', async () => {
    const name = await registered('incompatible');
    const { ssn: _dropped, ...withoutSsn } = recordSchema.properties;
    const incompatible = {
      ...definition,
      sensitiveFields: { email: 'hash' },
      recordSchema: {
        ...recordSchema,
        required: [...recordSchema.required, 'monthly_spend'],
        properties: {
          ...withoutSsn,
          plan: { enum: ['basic', 'premium'] },
          tenure_days: { type: 'integer', minimum: 1 },
        },
      },
    };
    const refused = await register(name, incompatible);
    assert.equal(refused.status, 409);
    const body = (await json(refused)) as {
      error: string;
      previousVersion: number;
      reasons: Array<{ rule: string; path: string }>;
    };
    assert.equal(body.error, 'incompatible_schema');
    assert.equal(body.previousVersion, 1);
    assert.deepEqual(body.reasons.map((r) => `${r.rule} ${r.path}`).sort(), [
      'enum-narrowed #/properties/plan',
      'minimum-tightened #/properties/tenure_days',
      'property-removed #/properties/ssn',
      'required-added #/properties/monthly_spend',
    ]);
    assert.equal(
      (await json(await fetch(`${base}/datasets/${name}`, authorized()))).version,
      1,
      'the refused version was not stored',
    );
  });

  test('a version is read back as registered; a missing one is 404, a dataset unknown too', async () => {
    const name = await registered('read');
    const v1 = await json(await fetch(`${base}/datasets/${name}/versions/1`, authorized()));
    assert.deepEqual([v1.recordSchema, v1.sensitiveFields], [recordSchema, definition.sensitiveFields]);
    const missing = await fetch(`${base}/datasets/${name}/versions/2`, authorized());
    assert.equal(missing.status, 404);
    assert.equal((await json(missing)).error, 'unknown_dataset_version');
    const unknown = await fetch(`${base}/datasets/${dataset('never')}`, authorized());
    assert.deepEqual([unknown.status, (await json(unknown)).error], [404, 'unknown_dataset']);
    const listed = (await json(await fetch(`${base}/datasets`, authorized()))) as {
      datasets: Array<{ dataset: string; version: number }>;
    };
    assert.deepEqual(
      listed.datasets.filter((d) => d.dataset === name).map((d) => d.version),
      [1],
    );
  });

  test('a definition that breaks the rules of datasets is refused with every problem', async () => {
    const res = await register(dataset('rules'), {
      role: 'labels',
      recordSchema: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'string' }, when: { type: 'string' } },
      },
      entityKeyField: 'id',
      eventTimeField: 'when',
      sensitiveFields: { id: 'hash' },
    });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error, 'invalid_dataset');
    assert.deepEqual(body.problems, [
      'eventTimeField "when" must be listed in recordSchema.required',
      'labelField is required for role "labels"',
      'sensitive field "id" cannot be the entity key, event time or label field',
    ]);
  });

  test('an unknown key in a dataset definition is refused, naming it', async () => {
    const res = await register(dataset('unknown-key'), { ...definition, colour: 'blue' });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error, 'invalid_request');
    assert.deepEqual(body.errors, [{ path: '/colour', message: 'is not a known key' }]);
    assert.match(body.message, /\/colour is not a known key/);
  });

  test('a typo in a field schema is refused at its path', async () => {
    const typo = {
      ...definition,
      recordSchema: {
        ...recordSchema,
        properties: { ...recordSchema.properties, tenure_days: { type: 'integer', minimun: 0 } },
      },
    };
    const res = await register(dataset('typo'), typo);
    assert.equal(res.status, 400);
    assert.deepEqual((await json(res)).errors, [
      { path: '/recordSchema/properties/tenure_days/minimun', message: 'is not a known key' },
    ]);
  });

  test('a record schema ajv cannot compile is refused with why', async () => {
    const broken = {
      ...definition,
      recordSchema: {
        ...recordSchema,
        properties: { ...recordSchema.properties, ssn: { type: ['string', 'null'], pattern: '(' } },
      },
    };
    const res = await register(dataset('no-compile'), broken);
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error, 'invalid_dataset');
    assert.match(body.message, /recordSchema does not compile/);
  });

  test('a body that is not JSON, or a name a dataset cannot have, is a bad request', async () => {
    const malformed = await fetch(
      `${base}/datasets/${dataset('malformed')}`,
      authorized({
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"role":',
      }),
    );
    assert.equal(malformed.status, 400);
    const badName = await register('Bad Name');
    assert.equal(badName.status, 400);
    assert.deepEqual((await json(badName)).errors, [
      { path: '/name', message: 'must match pattern "^[a-z][a-z0-9_-]{0,62}$"' },
    ]);
    assert.equal((await fetch(`${base}/datasets/${dataset('v')}/versions/0`, authorized())).status, 400);
  });
});

describe('records over HTTP', () => {
  test('a valid record is accepted and validated, with the sensitive fields hashed or dropped', async () => {
    const name = await registered('valid');
    const res = await send(name, { recordId: 'ok-1', record: good('c-ok-1') });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.accepted, 1);
    assert.equal(res.body.results[0].status, 'accepted');
    const [event] = await eventually(
      () => tap.of(VALIDATED, name).length > 0 && tap.of(VALIDATED, name),
      'the validated event',
    );
    assert.equal(event!.id, res.body.results[0].eventId);
    assert.equal(event!.key, `${name}/c-ok-1`);
    assert.deepEqual(event!.data.record, {
      customer_id: 'c-ok-1',
      event_time: '2025-11-20T07:59:12Z',
      email: hmac('c-ok-1@example.com'),
      tenure_days: 412,
      monthly_spend: null,
      plan: 'premium',
    });
    assert.equal(event!.data.eventTime, '2025-11-20T07:59:12.000Z');
    assert.equal(event!.data.role, 'features');
  });

  test('invalid records are rejected with every error, by kind, and the sensitive fields never leave in clear', async () => {
    const name = await registered('invalid');
    const records = [
      { recordId: 'bad-type', record: good('c-bad-1', { tenure_days: 'long' }) },
      { recordId: 'bad-required', record: (({ plan: _p, ...rest }) => rest)(good('c-bad-2')) },
      {
        recordId: 'bad-enum-format',
        record: good('c-bad-3', { plan: 'gold', event_time: 'yesterday', email: 'not-an-email' }),
      },
      { recordId: 'bad-extra', record: good('c-bad-4', { favourite_colour: 'blue' }) },
      { recordId: 'good-in-batch', record: good('c-bad-5') },
    ];
    const res = await send(name, records);
    assert.equal(res.status, 207, JSON.stringify(res.body));
    assert.deepEqual([res.body.accepted, res.body.rejected], [1, 4]);
    const kinds = res.body.results.map((r: any) => [
      r.recordId,
      r.status,
      (r.errors ?? []).map((e: any) => `${e.kind} ${e.path}`).sort(),
    ]);
    assert.deepEqual(kinds, [
      ['bad-type', 'rejected', ['type_mismatch /tenure_days']],
      ['bad-required', 'rejected', ['missing_field /plan']],
      [
        'bad-enum-format',
        'rejected',
        ['constraint_violation /email', 'constraint_violation /plan', 'invalid_event_time /event_time'],
      ],
      ['bad-extra', 'rejected', ['unknown_field /favourite_colour']],
      ['good-in-batch', 'accepted', []],
    ]);
    const rejected = await eventually(
      () => tap.of(REJECTED, name).length >= 4 && tap.of(REJECTED, name),
      'four rejected events',
    );
    for (const event of rejected) {
      const record = event.data.record as Record<string, unknown>;
      assert.equal(event.data.datasetVersion, 1);
      assert.ok(!('ssn' in record), 'dropped field is not in the rejected record');
      assert.ok(
        typeof record.email === 'string' && /^[a-f0-9]{64}$/.test(record.email as string),
        'email is hashed in the rejected record',
      );
      assert.ok((event.data.errors as unknown[]).length >= 1);
    }
    const extra = rejected.find((e) => e.data.recordId === 'bad-extra')!;
    assert.equal(
      (extra.data.record as Record<string, unknown>).favourite_colour,
      'blue',
      'the original payload is kept for repair',
    );
    await eventually(() => tap.of(VALIDATED, name).length > 0, 'the validated event of the batch');
    const everything = JSON.stringify(tap.seen.filter((s) => s.subject === name));
    assert.doesNotMatch(everything, /123-45-6789|@example\.com/, 'no sensitive value in any event of the dataset');
  });

  test('NDJSON: a malformed line is rejected with a clear error, the other lines still count', async () => {
    const name = await registered('ndjson');
    const lines = [
      JSON.stringify(good('c-nd-1')),
      '{"customer_id": "c-nd-2", oops',
      '',
      JSON.stringify({ recordId: 'nd-3', record: good('c-nd-3') }),
    ].join('\r\n');
    const res = await send(name, lines, 'application/x-ndjson');
    assert.equal(res.status, 207);
    assert.deepEqual(
      res.body.results.map((r: any) => [r.line, r.status]),
      [
        [1, 'accepted'],
        [2, 'rejected'],
        [4, 'accepted'],
      ],
    );
    assert.equal(res.body.results[1].errors[0].kind, 'malformed_json');
    assert.match(res.body.results[1].errors[0].message, /line 2 is not valid JSON/);
  });

  test('a body over the size limit is refused whole with 413', async () => {
    const name = await registered('big-body');
    const big = await send(name, [good('c-big', { ssn: 'x'.repeat(MAX_BODY) })]);
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'body_too_large');
    assert.match(big.body.message, new RegExp(`larger than the ${MAX_BODY} bytes allowed per request`));
  });

  test('more records than a batch may hold are refused whole with 413', async () => {
    const name = await registered('big-batch');
    const batch = await send(
      name,
      Array.from({ length: MAX_BATCH + 1 }, (_, i) => good(`c-batch-${i}`)),
    );
    assert.equal(batch.status, 413);
    assert.equal(batch.body.error, 'batch_too_large');
    assert.match(batch.body.message, /6 records, more than the 5 allowed/);
  });

  test('records of an unknown dataset are refused with 404', async () => {
    const unknown = await send(dataset('nope'), good('c-x'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'unknown_dataset');
  });

  test('a content type other than JSON or NDJSON is refused with 415', async () => {
    const name = await registered('form');
    const wrongType = await send(name, 'customer_id=c-x', 'application/x-www-form-urlencoded');
    assert.equal(wrongType.status, 415);
    assert.equal(wrongType.body.error, 'unsupported_media_type');
  });

  test('a JSON body that does not parse is refused with 400', async () => {
    const name = await registered('malformed');
    const malformed = await send(name, '{"customer_id":', 'application/json');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error, 'malformed_json');
  });

  test('a version that is not a positive integer is a bad request, naming the query key', async () => {
    const name = await registered('bad-version');
    const res = await fetch(
      `${base}/datasets/${name}/records?version=0`,
      authorized({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(good('c-v')),
      }),
    );
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.deepEqual([body.error, body.errors[0].path], ['invalid_request', '/version']);
  });

  test('a retried record id is answered duplicate and emitted once', async () => {
    const name = await registered('dup');
    const first = await send(name, { recordId: 'dup-1', record: good('c-dup') });
    assert.equal(first.status, 200);
    assert.equal(first.body.results[0].duplicate, undefined);
    const retry = await send(name, [
      { recordId: 'dup-1', record: good('c-dup') },
      { recordId: 'dup-marker', record: good('c-dup') },
    ]);
    assert.equal(retry.status, 200);
    assert.deepEqual(
      retry.body.results.map((r: any) => [r.recordId, r.status, r.duplicate ?? false]),
      [
        ['dup-1', 'accepted', true],
        ['dup-marker', 'accepted', false],
      ],
    );
    assert.equal(retry.body.duplicates, 1);
    // The marker has the same key, so the same partition: once it is seen, any second copy would have been too.
    assert.equal((await validatedOnceEach(name, ['dup-1'], 'dup-marker')).length, 1);
  });
});

describe('records from Kafka', () => {
  const source = 'urn:mlops:test-upstream';
  const recordEvent = (name: string, entityId: string, recordId?: string, record = good(entityId)) =>
    newEvent(
      EventTypes.DataRecordV1,
      { dataset: name, entityId, record, ...(recordId !== undefined ? { recordId } : {}) },
      { source, subject: name },
    );

  test('a record event delivered twice is validated once, hashed like over HTTP', async () => {
    const name = await registered('kafka-ok');
    const ok = recordEvent(name, 'c-kafka-1', 'kafka-1');
    await app.get(EventProducer).publishMany([ok, ok, recordEvent(name, 'c-kafka-1', 'kafka-marker')]);
    const validated = await validatedOnceEach(name, ['kafka-1'], 'kafka-marker');
    assert.equal(validated.length, 1, 'the event delivered twice was validated once');
    assert.equal(validated[0]!.data.sourceEventId, ok.id);
    assert.equal((validated[0]!.data.record as Record<string, unknown>).email, hmac('c-kafka-1@example.com'));
  });

  test('a redelivered event, and a group rolled back and tried again one by one, count once in the quality metrics', async () => {
    const name = await registered('kafka-counted');
    // One entity: the events share a partition, so they reach the handler as one group (one transaction).
    const [first, failing, marker] = ['count-1', 'count-2', 'count-marker'].map((id) =>
      recordEvent(name, 'c-counted', id),
    );
    const service = app.get(IngestRecordEventService);
    const ingest = service.ingest.bind(service);
    let failed = false;
    service.ingest = async (event, ...rest) => {
      if (event.id === failing!.id && !failed) {
        failed = true;
        throw new Error('fails once, after the first event of its group took effect');
      }
      return ingest(event, ...rest);
    };
    try {
      await app.get(EventProducer).publishMany([first!, first!, failing!, marker!]);
      await validatedOnceEach(name, ['count-1', 'count-2'], 'count-marker');
    } finally {
      service.ingest = ingest;
    }
    assert.ok(failed, 'the group failed once');
    // The counters move after the commit, which the validated events on the topic may overtake: wait for the lines.
    // Each record counts once in this process: accepted, or duplicate when an ingestion process of a test file
    // running beside this one (its own consumer group, reading the same topic) accepted it first.
    const counter = (kind: string, text: string): number =>
      Number(
        new RegExp(`ingestion_records_${kind}_total\\{dataset="${name}",service="ingestion"\\} (\\d+)\n`).exec(
          text,
        )?.[1] ?? 0,
      );
    const counted = (text: string): number => counter('accepted', text) + counter('duplicate', text);
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${base}/metrics`, authorized())).text();
      return counted(text) >= 3 ? text : undefined;
    }, 'the quality counters of the dataset to count the three records');
    assert.equal(counted(metrics), 3, 'counted once each: the redelivery and the retried group');
  });

  test('a record event whose entity id differs from the record is rejected', async () => {
    const name = await registered('kafka-mismatch');
    await app.get(EventProducer).publishMany([recordEvent(name, 'someone-else', 'kafka-2', good('c-kafka-2'))]);
    const rejected: Seen = await eventually(
      () => tap.of(REJECTED, name).find((e) => e.data.recordId === 'kafka-2'),
      'the entity key mismatch',
      90_000,
    );
    assert.deepEqual(
      (rejected.data.errors as Array<{ kind: string }>).map((e) => e.kind),
      ['entity_key_mismatch'],
    );
  });

  test('a record event of an unregistered dataset is rejected with the record withheld', async () => {
    const orphan = dataset('unregistered');
    await app.get(EventProducer).publishMany([recordEvent(orphan, 'c-kafka-3')]);
    const withheld: Seen = await eventually(() => tap.of(REJECTED, orphan)[0], 'the unknown dataset rejection', 90_000);
    assert.deepEqual(
      [withheld.data.datasetVersion, withheld.data.record, (withheld.data.errors as Array<{ kind: string }>)[0]!.kind],
      [null, {}, 'unknown_dataset'],
    );
  });

  test('a record id already accepted over HTTP is a duplicate when it comes again from Kafka', async () => {
    const name = await registered('both');
    const first = await send(name, { recordId: 'both-1', record: good('c-both') });
    assert.equal(first.status, 200);
    await app
      .get(EventProducer)
      .publishMany([recordEvent(name, 'c-both', 'both-1'), recordEvent(name, 'c-both', 'both-marker')]);
    // Same key, same partition, outbox rows in order: once the marker is out, a copy of both-1 would be too.
    assert.equal((await validatedOnceEach(name, ['both-1'], 'both-marker')).length, 1);
  });
});

describe('the HTTP API document', () => {
  test('/openapi.json lists every endpoint with its request and answers; the records body with its media types', async () => {
    const document = await json(await fetch(`${base}/openapi.json`, authorized()));
    assert.deepEqual(
      Object.keys(document.paths)
        .filter((path) => path.startsWith('/datasets'))
        .sort(),
      [
        '/datasets',
        '/datasets/{name}',
        '/datasets/{name}/records',
        '/datasets/{name}/subscriptions',
        '/datasets/{name}/subscriptions/{topic}',
        '/datasets/{name}/versions/{version}',
      ],
    );
    const put = document.paths['/datasets/{name}'].put;
    assert.equal(put.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.deepEqual(Object.keys(put.responses).sort(), ['200', '201', '400', '403', '409']);
    const post = document.paths['/datasets/{name}/records'].post;
    assert.deepEqual(Object.keys(post.requestBody.content).sort(), [
      'application/json',
      'application/jsonl',
      'application/ndjson',
      'application/x-jsonlines',
      'application/x-ndjson',
    ]);
    assert.deepEqual(
      post.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`),
      ['path:name', 'query:version', 'query:knownAt'],
    );
    assert.deepEqual(Object.keys(post.responses).sort(), ['200', '207', '400', '404', '413', '415', '503']);
    const docs = await fetch(`${base}/docs`, authorized());
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /application\/x-ndjson/);
  });
});

describe('accepted record ids', () => {
  test('the table stays bounded: ids older than the retention are forgotten, recent ones kept', async () => {
    const name = dataset('prune');
    const dataSource = app.get<DataSource>(POSTGRES);
    await dataSource.query(
      `INSERT INTO ingestion.accepted_records (dataset, record_id, event_id, accepted_at) VALUES ($1, 'old', 'e-old', now() - interval '10 days'), ($1, 'new', 'e-new', now())`,
      [name],
    );
    assert.ok((await app.get(AcceptedRecords).prune(7 * 24 * 3_600_000, 10_000_000)) >= 1);
    const rows: Array<{ record_id: string }> = await dataSource.query(
      'SELECT record_id FROM ingestion.accepted_records WHERE dataset = $1',
      [name],
    );
    assert.deepEqual(
      rows.map((r) => r.record_id),
      ['new'],
    );
  });
});

describe('data quality', () => {
  test('Prometheus counts by dataset and error kind, and a window flush emits mlops.data.quality.v1', async () => {
    const name = dataset('quality');
    assert.equal((await register(name)).status, 201);
    const res = await send(name, [good('q-1'), good('q-2', { monthly_spend: 10 }), good('q-3', { tenure_days: -1 })]);
    assert.equal(res.status, 207);
    const metrics = await (await fetch(`${base}/metrics`, authorized())).text();
    assert.match(metrics, new RegExp(`ingestion_records_accepted_total\\{dataset="${name}",service="ingestion"\\} 2`));
    assert.match(
      metrics,
      new RegExp(
        `ingestion_record_errors_total\\{dataset="${name}",kind="constraint_violation",keyword="minimum",service="ingestion"\\} 1`,
      ),
    );
    assert.match(
      metrics,
      new RegExp(`ingestion_field_null_rate\\{dataset="${name}",field="monthly_spend",service="ingestion"\\} 0.5`),
    );

    // No flush call: the window timer (INGESTION_QUALITY_INTERVAL_MS) closes the window on its own.
    const [report] = await eventually(
      () => tap.of(QUALITY, name).length > 0 && tap.of(QUALITY, name),
      'the quality event of the next window',
      20 * QUALITY_WINDOW_MS,
    );
    assert.equal(report!.key, name);
    assert.deepEqual(
      [report!.data.accepted, report!.data.rejected, report!.data.rejectedByKind],
      [2, 1, { constraint_violation: 1 }],
    );
    assert.equal((report!.data.nullRates as Record<string, number>).monthly_spend, 0.5);
    assert.equal((report!.data.nullRates as Record<string, number>).plan, 0);
    const window = report!.data.window as { start: string; end: string };
    assert.ok(
      Date.parse(window.end) - Date.parse(window.start) <= 5 * QUALITY_WINDOW_MS,
      `a window of about ${QUALITY_WINDOW_MS} ms: ${JSON.stringify(window)}`,
    );
  });
});
