import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetVersion } from '../src/domain/dataset';
import { httpRecordEventId, outcomeEventId, uuidV5 } from '../src/domain/event-ids';
import { QualityWindow } from '../src/domain/quality-window';
import { checkRecord, isRfc3339, kindOf } from '../src/domain/record-check';
import { formatOf, parseRecordsBody } from '../src/domain/records-body';
import { hmacHasher, needsHashKey, protectSensitiveFields } from '../src/domain/sensitive-fields';

describe('deterministic event ids', () => {
  test('uuidV5 matches the RFC 9562 known answer', () => {
    // RFC 9562 / Python uuid.uuid5(uuid.NAMESPACE_DNS, "www.example.com")
    assert.equal(
      uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  test('the same dataset + record id always gives the same id; anything else a different one', () => {
    const a = outcomeEventId('mlops.data.validated.v1', 'customers', { recordId: 'r-1', sourceEventId: 'ignored-1' });
    assert.equal(
      a,
      outcomeEventId('mlops.data.validated.v1', 'customers', { recordId: 'r-1', sourceEventId: 'ignored-2' }),
    );
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, outcomeEventId('mlops.data.validated.v1', 'customers', { recordId: 'r-2', sourceEventId: 'x' }));
    assert.notEqual(a, outcomeEventId('mlops.data.validated.v1', 'orders', { recordId: 'r-1', sourceEventId: 'x' }));
    assert.notEqual(a, outcomeEventId('mlops.data.rejected.v1', 'customers', { recordId: 'r-1', sourceEventId: 'x' }));
    // Without a record id, the id follows the carrying event: a redelivery maps to the same outcome.
    assert.equal(
      outcomeEventId('t', 'd', { sourceEventId: 'e-1' }),
      outcomeEventId('t', 'd', { sourceEventId: 'e-1' }),
    );
    assert.notEqual(
      outcomeEventId('t', 'd', { sourceEventId: 'e-1' }),
      outcomeEventId('t', 'd', { sourceEventId: 'e-2' }),
    );
    assert.equal(
      httpRecordEventId('d', 'r', () => 'random'),
      httpRecordEventId('d', 'r', () => 'other'),
    );
    assert.equal(
      httpRecordEventId('d', undefined, () => 'random'),
      'random',
    );
  });
});

describe('sensitive fields', () => {
  const hash = hmacHasher('k'.repeat(32));
  test('hash is a keyed, deterministic HMAC-SHA256; drop removes; null stays null; other fields untouched', () => {
    const out = protectSensitiveFields(
      { email: 'a@b.c', ssn: '123', phone: null, age: 3, id: 'x' },
      { email: 'hash', ssn: 'drop', phone: 'hash', missing: 'drop' },
      hash,
    );
    assert.deepEqual(Object.keys(out).sort(), ['age', 'email', 'id', 'phone']);
    assert.match(out.email as string, /^[a-f0-9]{64}$/);
    assert.equal(out.email, hash('a@b.c'));
    assert.notEqual(out.email, hmacHasher('j'.repeat(32))('a@b.c'), 'another key gives another digest');
    assert.equal(out.phone, null);
    assert.deepEqual([out.age, out.id], [3, 'x']);
    // Non-string values (a record rejected for its type) are hashed as JSON, never passed through.
    assert.equal(
      protectSensitiveFields({ email: { nested: 'a@b.c' } }, { email: 'hash' }, hash).email,
      hash({ nested: 'a@b.c' }),
    );
  });

  test('hashing without a key is refused rather than leaking the value', () => {
    assert.throws(() => protectSensitiveFields({ email: 'a@b.c' }, { email: 'hash' }, undefined), /no hash key/);
    assert.deepEqual(protectSensitiveFields({ ssn: '1' }, { ssn: 'drop' }, undefined), {});
    assert.equal(needsHashKey({ a: 'drop' }), false);
    assert.equal(needsHashKey({ a: 'drop', b: 'hash' }), true);
  });
});

describe('request bodies', () => {
  test('content types', () => {
    assert.equal(formatOf('application/json; charset=utf-8'), 'json');
    assert.equal(formatOf('Application/X-NDJSON'), 'ndjson');
    assert.equal(formatOf('text/plain'), undefined);
    const refused = parseRecordsBody('text/csv', 'a,b', 10);
    assert.ok(!refused.ok && refused.error.kind === 'unsupported_media_type');
    const none = parseRecordsBody(undefined, '{}', 10);
    assert.ok(!none.ok && none.error.kind === 'unsupported_media_type' && /\(none\)/.test(none.error.message));
  });

  test('JSON: one record or an array; malformed or non-record bodies are refused whole', () => {
    const one = parseRecordsBody('application/json', '{"a":1}', 10);
    assert.ok(one.ok);
    assert.deepEqual(one.value, [{ index: 0, ok: true, record: { a: 1 } }]);
    const many = parseRecordsBody('application/json', '[{"a":1}, 2, {"recordId":"r","record":{"a":2}}]', 10);
    assert.ok(many.ok);
    assert.deepEqual(
      many.value.map((i) => (i.ok ? ['ok', i.recordId ?? null, i.record] : ['failed', i.error])),
      [
        ['ok', null, { a: 1 }],
        ['failed', 'record 1 must be a JSON object'],
        ['ok', 'r', { a: 2 }],
      ],
    );
    const malformed = parseRecordsBody('application/json', '{"a":', 10);
    assert.ok(!malformed.ok && malformed.error.kind === 'malformed_json');
    const scalar = parseRecordsBody('application/json', '"hello"', 10);
    assert.ok(!scalar.ok && scalar.error.kind === 'invalid_body');
    const empty = parseRecordsBody('application/json', '[]', 10);
    assert.ok(!empty.ok && empty.error.kind === 'empty_body');
  });

  test('NDJSON: one record per line, blank lines and CRLF tolerated, a malformed line fails alone', () => {
    const parsed = parseRecordsBody(
      'application/x-ndjson',
      '{"a":1}\r\n\n{"a":\n{"recordId":"r-9","record":{"a":3}}\n',
      10,
    );
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.value.map((i) => [i.index, i.line, i.ok]),
      [
        [0, 1, true],
        [1, 3, false],
        [2, 4, true],
      ],
    );
    const failed = parsed.value[1]!;
    assert.ok(!failed.ok && /^line 3 is not valid JSON/.test(failed.error));
    const third = parsed.value[2]!;
    assert.ok(third.ok && third.recordId === 'r-9');
  });

  test('the batch limit, and envelopes with a bad record id', () => {
    const tooMany = parseRecordsBody('application/x-ndjson', '{}\n{}\n{}', 2);
    assert.ok(!tooMany.ok && tooMany.error.kind === 'batch_too_large');
    // The message speaks of the limit, not of the service's configuration.
    assert.equal(tooMany.error.message, 'the body holds 3 records, more than the 2 allowed per request; split it');
    const badId = parseRecordsBody('application/json', '{"recordId":7,"record":{"a":1}}', 2);
    assert.ok(badId.ok && !badId.value[0]!.ok);
    // A flat record that merely has a scalar "record" field is a record, not an envelope.
    const flat = parseRecordsBody('application/json', '{"record":"x","recordId":"y"}', 2);
    assert.ok(flat.ok && flat.value[0]!.ok && flat.value[0]!.recordId === undefined);
  });
});

describe('record checks', () => {
  const dataset: DatasetVersion = {
    name: 'customers',
    version: 3,
    role: 'features',
    recordSchema: {
      type: 'object',
      properties: { id: { type: 'string' }, at: { type: 'string' }, score: { type: ['number', 'null'] } },
    },
    entityKeyField: 'id',
    eventTimeField: 'at',
    sensitiveFields: {},
    registeredAt: new Date(0),
  };

  test('ajv keywords map to error kinds', () => {
    assert.equal(kindOf({ path: '/x', keyword: 'required', message: '' }, 'at'), 'missing_field');
    assert.equal(kindOf({ path: '/x', keyword: 'additionalProperties', message: '' }, 'at'), 'unknown_field');
    assert.equal(kindOf({ path: '/x', keyword: 'type', message: '' }, 'at'), 'type_mismatch');
    assert.equal(kindOf({ path: '/at', keyword: 'format', message: '' }, 'at'), 'invalid_event_time');
    assert.equal(kindOf({ path: '/at', keyword: 'type', message: '' }, 'at'), 'type_mismatch');
    for (const keyword of ['enum', 'minimum', 'pattern', 'format', 'const', 'maxLength']) {
      assert.equal(kindOf({ path: '/x', keyword, message: '' }, 'at'), 'constraint_violation');
    }
  });

  test('a valid record is normalised: every declared field, null when absent, the event time in UTC', () => {
    const verdict = checkRecord(dataset, { id: 'c-1', at: '2025-11-20T09:00:00+01:00' }, []);
    assert.deepEqual(verdict, {
      ok: true,
      entityId: 'c-1',
      eventTime: '2025-11-20T08:00:00.000Z',
      values: { id: 'c-1', at: '2025-11-20T09:00:00+01:00', score: null },
    });
  });

  test('what the schema cannot say: a real event time, the claimed entity id, a usable entity id', () => {
    const verdict = checkRecord(dataset, { id: 'c-1', at: '2025-13-45T99:00:00Z' }, [], 'c-2');
    assert.ok(!verdict.ok);
    assert.deepEqual(
      verdict.errors.map((e) => [e.kind, e.path]),
      [
        ['entity_key_mismatch', '/id'],
        ['invalid_event_time', '/at'],
      ],
    );
    assert.equal(verdict.entityId, 'c-1');
    const noId = checkRecord(
      dataset,
      { at: '2025-11-20T08:00:00Z' },
      [{ path: '/id', keyword: 'required', message: 'is required' }],
      'c-9',
    );
    assert.ok(!noId.ok && noId.entityId === 'c-9' && noId.errors.length === 1);
    const unknown = checkRecord(dataset, { id: '', at: '2025-11-20T08:00:00Z' }, []);
    assert.ok(!unknown.ok && unknown.entityId === '(unknown)' && unknown.errors[0]!.keyword === 'entityKey');
    assert.ok(isRfc3339('2025-11-20T08:00:00.123Z'));
    assert.ok(!isRfc3339('2025-11-20T08:00:00'), 'a time without a zone is ambiguous');
    assert.ok(!isRfc3339('yesterday'));
  });
});

describe('quality windows', () => {
  test('counts, kinds once per record, null rates, and a fresh window after closing', () => {
    const window = new QualityWindow(new Date('2025-11-20T08:00:00Z'));
    window.accepted('a', { x: 1, y: null });
    assert.deepEqual(window.accepted('a', { x: null, y: null }), { x: 0.5, y: 1 });
    window.rejected('a', ['type_mismatch', 'type_mismatch', 'missing_field']);
    window.rejected('a', ['missing_field']);
    window.duplicate('a');
    window.rejected('b', ['unknown_field']);
    const reports = window.close(new Date('2025-11-20T08:05:00Z'));
    assert.deepEqual(reports[0], {
      dataset: 'a',
      window: { start: '2025-11-20T08:00:00.000Z', end: '2025-11-20T08:05:00.000Z' },
      accepted: 2,
      rejected: 2,
      duplicates: 1,
      rejectedByKind: { type_mismatch: 1, missing_field: 2 },
      nullRates: { x: 0.5, y: 1 },
    });
    assert.deepEqual([reports[1]!.dataset, reports[1]!.accepted, reports[1]!.nullRates], ['b', 0, {}]);
    assert.deepEqual(window.close(new Date('2025-11-20T08:10:00Z')), []);
    window.duplicate('a');
    const [next] = window.close(new Date('2025-11-20T08:10:00Z'));
    assert.equal(next!.window.start, '2025-11-20T08:10:00.000Z');
    assert.ok(next!.window.end > next!.window.start, 'a window always ends after it starts');
  });
});
