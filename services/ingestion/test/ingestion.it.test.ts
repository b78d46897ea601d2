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
import { positionGroupAt, testKafka } from '@mlops/testing';
import { HASH_KEY, type Seen, TopicTap, eventually, testConfig } from './support';

const RUN = `ing${randomUUID().slice(0, 8)}`;
const dataset = (name: string): string => `${RUN}_${name}`;
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
  return fetch(`${base}/datasets/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function send(name: string, body: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/datasets/${name}/records`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const NAME = dataset('customers');

before(async () => {
  await tap.start();
  const config = testConfig({ INGESTION_MAX_BODY_BYTES: String(MAX_BODY), INGESTION_MAX_BATCH: String(MAX_BATCH), INGESTION_QUALITY_INTERVAL_MS: String(QUALITY_WINDOW_MS) });
  // The app's fresh consumer group reads records from the test's start, not the topic's whole history.
  await positionGroupAt(testKafka('ingestion-test-position'), config.CONSUMER_GROUP!, [EventTypes.DataRecordV1]);
  app = await createIngestionApp(config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  assert.equal((await register(NAME)).status, 201);
});

after(async () => {
  await app?.close();
  await tap.stop();
});

describe('dataset registration', () => {
  test('registers v1, is idempotent, accepts a compatible v2 and refuses an incompatible one with every reason', async () => {
    const name = dataset('versions');
    const first = await register(name);
    assert.equal(first.status, 201);
    assert.equal(((await first.json()) as { version: number }).version, 1);

    const again = await register(name);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json().then((b: any) => [b.version, b.unchanged]), [1, true]);

    const withOptionalField = { ...definition, recordSchema: { ...recordSchema, properties: { ...recordSchema.properties, country: { type: ['string', 'null'] } } } };
    const second = await register(name, withOptionalField);
    assert.equal(second.status, 201);
    assert.equal(((await second.json()) as { version: number }).version, 2);

    const { ssn: _dropped, ...withoutSsn } = withOptionalField.recordSchema.properties;
    const incompatible = {
      ...withOptionalField,
      sensitiveFields: { email: 'hash' },
      recordSchema: {
        ...withOptionalField.recordSchema,
        required: [...recordSchema.required, 'monthly_spend'],
        properties: { ...withoutSsn, plan: { enum: ['basic', 'premium'] }, tenure_days: { type: 'integer', minimum: 1 } },
      },
    };
    const refused = await register(name, incompatible);
    assert.equal(refused.status, 409);
    const body = (await refused.json()) as { error: string; previousVersion: number; reasons: Array<{ rule: string; path: string }> };
    assert.equal(body.error, 'incompatible_schema');
    assert.equal(body.previousVersion, 2);
    assert.deepEqual(body.reasons.map((r) => `${r.rule} ${r.path}`).sort(), [
      'enum-narrowed #/properties/plan',
      'minimum-tightened #/properties/tenure_days',
      'property-removed #/properties/ssn',
      'required-added #/properties/monthly_spend',
    ]);
    assert.equal(((await (await fetch(`${base}/datasets/${name}`)).json()) as { version: number }).version, 2, 'the refused version was not stored');
    const v1 = (await (await fetch(`${base}/datasets/${name}/versions/1`)).json()) as { recordSchema: unknown; sensitiveFields: unknown };
    assert.deepEqual([v1.recordSchema, v1.sensitiveFields], [recordSchema, definition.sensitiveFields]);
    assert.equal((await fetch(`${base}/datasets/${name}/versions/3`)).status, 404);
    const listed = (await (await fetch(`${base}/datasets`)).json()) as { datasets: Array<{ dataset: string; version: number }> };
    assert.deepEqual(listed.datasets.filter((d) => d.dataset === name).map((d) => d.version), [2]);

    const events = await eventually(() => tap.of(REGISTERED, name).length >= 2 && tap.of(REGISTERED, name), 'two dataset.registered events');
    assert.deepEqual(events.map((e) => [e.key, e.data.version, e.data.sensitiveFields]), [
      [name, 1, ['email', 'ssn']],
      [name, 2, ['email', 'ssn']],
    ]);
  });

  test('an invalid definition is refused with every problem', async () => {
    const res = await register(dataset('bad'), {
      role: 'labels',
      recordSchema: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, when: { type: 'string' }, nested: { type: 'object' } } },
      entityKeyField: 'id',
      eventTimeField: 'when',
      sensitiveFields: { id: 'hash' },
    });
    assert.equal(res.status, 400);
    const problems = ((await res.json()) as { problems: string[] }).problems.join('\n');
    assert.match(problems, /field "nested" must declare scalar type/);
    assert.match(problems, /eventTimeField "when" must be listed in recordSchema.required/);
    assert.match(problems, /labelField must be a field name/);
    assert.match(problems, /sensitive field "id" cannot be the entity key/);

    const typo = await register(dataset('typo'), { ...definition, recordSchema: { ...recordSchema, properties: { ...recordSchema.properties, tenure_days: { type: 'integer', minimun: 0 } } } });
    assert.equal(typo.status, 400);
    assert.match(((await typo.json()) as { message: string }).message, /recordSchema does not compile: .*minimun/);

    const malformed = await fetch(`${base}/datasets/${dataset('malformed')}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"role":' });
    assert.equal(malformed.status, 400);
  });
});

describe('records over HTTP', () => {
  test('a valid record is accepted and validated, with the sensitive fields hashed or dropped', async () => {
    const res = await send(NAME, { recordId: 'ok-1', record: good('c-ok-1') });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.accepted, 1);
    assert.equal(res.body.results[0].status, 'accepted');
    const [event] = await eventually(() => {
      const found = tap.of(VALIDATED, NAME).filter((e) => e.data.recordId === 'ok-1');
      return found.length > 0 && found;
    }, 'the validated event');
    assert.equal(event!.id, res.body.results[0].eventId);
    assert.equal(event!.key, `${NAME}/c-ok-1`);
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
    const records = [
      { recordId: 'bad-type', record: good('c-bad-1', { tenure_days: 'long' }) },
      { recordId: 'bad-required', record: (({ plan: _p, ...rest }) => rest)(good('c-bad-2')) },
      { recordId: 'bad-enum-format', record: good('c-bad-3', { plan: 'gold', event_time: 'yesterday', email: 'not-an-email' }) },
      { recordId: 'bad-extra', record: good('c-bad-4', { favourite_colour: 'blue' }) },
      { recordId: 'good-in-batch', record: good('c-bad-5') },
    ];
    const res = await send(NAME, records);
    assert.equal(res.status, 207, JSON.stringify(res.body));
    assert.deepEqual([res.body.accepted, res.body.rejected], [1, 4]);
    const kinds = res.body.results.map((r: any) => [r.recordId, r.status, (r.errors ?? []).map((e: any) => `${e.kind} ${e.path}`).sort()]);
    assert.deepEqual(kinds, [
      ['bad-type', 'rejected', ['type_mismatch /tenure_days']],
      ['bad-required', 'rejected', ['missing_field /plan']],
      ['bad-enum-format', 'rejected', ['constraint_violation /email', 'constraint_violation /plan', 'invalid_event_time /event_time']],
      ['bad-extra', 'rejected', ['unknown_field /favourite_colour']],
      ['good-in-batch', 'accepted', []],
    ]);
    const rejected = await eventually(() => {
      const found = tap.of(REJECTED, NAME).filter((e) => String(e.data.recordId).startsWith('bad-'));
      return found.length >= 4 && found;
    }, 'four rejected events');
    for (const event of rejected) {
      const record = event.data.record as Record<string, unknown>;
      assert.equal(event.data.datasetVersion, 1);
      assert.ok(!('ssn' in record), 'dropped field is not in the rejected record');
      assert.ok(typeof record.email === 'string' && /^[a-f0-9]{64}$/.test(record.email as string), 'email is hashed in the rejected record');
      assert.ok((event.data.errors as unknown[]).length >= 1);
    }
    const extra = rejected.find((e) => e.data.recordId === 'bad-extra')!;
    assert.equal((extra.data.record as Record<string, unknown>).favourite_colour, 'blue', 'the original payload is kept for repair');
    const everything = JSON.stringify(tap.seen.filter((s) => s.subject === NAME));
    assert.doesNotMatch(everything, /123-45-6789|@example\.com/, 'no sensitive value in any event of the dataset');
  });

  test('NDJSON: a malformed line is rejected with a clear error, the other lines still count', async () => {
    const lines = [JSON.stringify(good('c-nd-1')), '{"customer_id": "c-nd-2", oops', '', JSON.stringify({ recordId: 'nd-3', record: good('c-nd-3') })].join('\r\n');
    const res = await send(NAME, lines, 'application/x-ndjson');
    assert.equal(res.status, 207);
    assert.deepEqual(res.body.results.map((r: any) => [r.line, r.status]), [[1, 'accepted'], [2, 'rejected'], [4, 'accepted']]);
    assert.equal(res.body.results[1].errors[0].kind, 'malformed_json');
    assert.match(res.body.results[1].errors[0].message, /line 2 is not valid JSON/);
  });

  test('limits and refusals: body size, batch size, unknown dataset, content type, malformed JSON', async () => {
    const big = await send(NAME, [good('c-big', { ssn: 'x'.repeat(MAX_BODY) })]);
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'body_too_large');
    const batch = await send(NAME, Array.from({ length: MAX_BATCH + 1 }, (_, i) => good(`c-batch-${i}`)));
    assert.equal(batch.status, 413);
    assert.equal(batch.body.error, 'batch_too_large');
    assert.match(batch.body.message, /6 records, more than the 5 allowed/);
    const unknown = await send(dataset('nope'), good('c-x'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'unknown_dataset');
    const wrongType = await send(NAME, 'customer_id=c-x', 'application/x-www-form-urlencoded');
    assert.equal(wrongType.status, 415);
    assert.equal(wrongType.body.error, 'unsupported_media_type');
    const malformed = await send(NAME, '{"customer_id":', 'application/json');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error, 'malformed_json');
  });

  test('a retried record id is answered duplicate and emitted once', async () => {
    const first = await send(NAME, { recordId: 'dup-1', record: good('c-dup') });
    assert.equal(first.status, 200);
    assert.equal(first.body.results[0].duplicate, undefined);
    const retry = await send(NAME, [{ recordId: 'dup-1', record: good('c-dup') }, { recordId: 'dup-marker', record: good('c-dup') }]);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body.results.map((r: any) => [r.recordId, r.status, r.duplicate ?? false]), [['dup-1', 'accepted', true], ['dup-marker', 'accepted', false]]);
    assert.equal(retry.body.duplicates, 1);
    // The marker has the same key, so the same partition: once it is seen, any second copy would have been too.
    await eventually(() => tap.of(VALIDATED, NAME).some((e) => e.data.recordId === 'dup-marker'), 'the marker');
    assert.equal(tap.of(VALIDATED, NAME).filter((e) => e.data.recordId === 'dup-1').length, 1);
  });
});

describe('records from Kafka', () => {
  test('a record event round-trips to validated; a bad one and one of an unknown dataset to rejected', async () => {
    const producer = app.get(EventProducer);
    const source = 'urn:mlops:test-upstream';
    const ok = newEvent(EventTypes.DataRecordV1, { dataset: NAME, entityId: 'c-kafka-1', record: good('c-kafka-1'), recordId: 'kafka-1' }, { source, subject: NAME });
    const mismatch = newEvent(EventTypes.DataRecordV1, { dataset: NAME, entityId: 'someone-else', record: good('c-kafka-2'), recordId: 'kafka-2' }, { source, subject: NAME });
    const orphan = dataset('unregistered');
    const unknown = newEvent(EventTypes.DataRecordV1, { dataset: orphan, entityId: 'c-kafka-3', record: good('c-kafka-3') }, { source, subject: orphan });
    await producer.publishMany([ok, ok, mismatch, unknown]);

    const validated = await eventually(() => {
      const found = tap.of(VALIDATED, NAME).filter((e) => e.data.recordId === 'kafka-1');
      return found.length > 0 && found;
    }, 'the validated event of the Kafka record', 90_000);
    assert.equal(validated[0]!.data.sourceEventId, ok.id);
    assert.equal((validated[0]!.data.record as Record<string, unknown>).email, hmac('c-kafka-1@example.com'));

    const rejected: Seen = await eventually(() => tap.of(REJECTED, NAME).find((e) => e.data.recordId === 'kafka-2'), 'the entity key mismatch');
    assert.deepEqual((rejected.data.errors as Array<{ kind: string }>).map((e) => e.kind), ['entity_key_mismatch']);
    const withheld: Seen = await eventually(() => tap.of(REJECTED, orphan)[0], 'the unknown dataset rejection');
    assert.deepEqual([withheld.data.datasetVersion, withheld.data.record, (withheld.data.errors as Array<{ kind: string }>)[0]!.kind], [null, {}, 'unknown_dataset']);
    assert.equal(tap.of(VALIDATED, NAME).filter((e) => e.data.recordId === 'kafka-1').length, 1, 'the event delivered twice was validated once');
  });

  test('a record id already accepted over HTTP is a duplicate when it comes again from Kafka', async () => {
    const first = await send(NAME, { recordId: 'both-1', record: good('c-both') });
    assert.equal(first.status, 200);
    const source = 'urn:mlops:test-upstream';
    const again = newEvent(EventTypes.DataRecordV1, { dataset: NAME, entityId: 'c-both', record: good('c-both'), recordId: 'both-1' }, { source, subject: NAME });
    const marker = newEvent(EventTypes.DataRecordV1, { dataset: NAME, entityId: 'c-both', record: good('c-both'), recordId: 'both-marker' }, { source, subject: NAME });
    await app.get(EventProducer).publishMany([again, marker]);
    // Same key, same partition, outbox rows in order: once the marker is out, a copy of both-1 would be too.
    await eventually(() => tap.of(VALIDATED, NAME).some((e) => e.data.recordId === 'both-marker'), 'the marker', 90_000);
    assert.equal(tap.of(VALIDATED, NAME).filter((e) => e.data.recordId === 'both-1').length, 1);
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
    const rows: Array<{ record_id: string }> = await dataSource.query('SELECT record_id FROM ingestion.accepted_records WHERE dataset = $1', [name]);
    assert.deepEqual(rows.map((r) => r.record_id), ['new']);
  });
});

describe('data quality', () => {
  test('Prometheus counts by dataset and error kind, and a window flush emits mlops.data.quality.v1', async () => {
    const name = dataset('quality');
    assert.equal((await register(name)).status, 201);
    const res = await send(name, [good('q-1'), good('q-2', { monthly_spend: 10 }), good('q-3', { tenure_days: -1 })]);
    assert.equal(res.status, 207);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, new RegExp(`ingestion_records_accepted_total\\{dataset="${name}",service="ingestion"\\} 2`));
    assert.match(metrics, new RegExp(`ingestion_record_errors_total\\{dataset="${name}",kind="constraint_violation",keyword="minimum",service="ingestion"\\} 1`));
    assert.match(metrics, new RegExp(`ingestion_field_null_rate\\{dataset="${name}",field="monthly_spend",service="ingestion"\\} 0.5`));

    // No flush call: the window timer (INGESTION_QUALITY_INTERVAL_MS) closes the window on its own.
    const [report] = await eventually(() => tap.of(QUALITY, name).length > 0 && tap.of(QUALITY, name), 'the quality event of the next window', 20 * QUALITY_WINDOW_MS);
    assert.equal(report!.key, name);
    assert.deepEqual([report!.data.accepted, report!.data.rejected, report!.data.rejectedByKind], [2, 1, { constraint_violation: 1 }]);
    assert.equal((report!.data.nullRates as Record<string, number>).monthly_spend, 0.5);
    assert.equal((report!.data.nullRates as Record<string, number>).plan, 0);
    const window = report!.data.window as { start: string; end: string };
    assert.ok(Date.parse(window.end) - Date.parse(window.start) <= 5 * QUALITY_WINDOW_MS, `a window of about ${QUALITY_WINDOW_MS} ms: ${JSON.stringify(window)}`);
  });
});
