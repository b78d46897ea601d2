import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetVersion, SensitiveTreatment } from '../src/domain/dataset';
import { contentRecordKey } from '../src/domain/event-ids';
import type { JsonObject } from '../src/domain/json';
import { decideBatch } from '../src/domain/record-batch';
import { type SchemaIssue, checkRecord, checkRecordEvent } from '../src/domain/record-check';
import { MAX_RECORD_DEPTH, carriableCopy, eventTimeRange, shapeProblems } from '../src/domain/record-guards';
import { parseRecordsBody } from '../src/domain/records-body';
import { hmacHasher, protectSensitiveFields } from '../src/domain/sensitive-fields';
import { RecordValidators } from '../src/infrastructure/record-validators';

const NOW = new Date('2026-01-10T00:00:00Z');
const RANGE = eventTimeRange(NOW, 3600);
const AT = '2026-01-09T12:00:00Z';

function datasetOf(properties: JsonObject, required: string[] = ['id', 'at']): DatasetVersion {
  return {
    name: 'guarded',
    version: 1,
    role: 'features',
    recordSchema: { type: 'object', additionalProperties: false, required, properties },
    entityKeyField: 'id',
    eventTimeField: 'at',
    sensitiveFields: {},
    registeredAt: new Date(0),
  };
}
const dataset = datasetOf({ id: { type: 'string' }, at: { type: 'string' }, x: {} });
const noIssues = (): SchemaIssue[] => [];

function deepRecord(levels: number): JsonObject {
  let value: JsonObject = { leaf: 1 };
  for (let i = 0; i < levels; i++) value = { n: value };
  return value;
}

function errorsOf(record: JsonObject, claimed?: string): Array<[string, string, string]> {
  const verdict = checkRecord(dataset, record, noIssues, claimed, RANGE);
  return verdict.ok ? [] : verdict.errors.map((e) => [e.kind, e.path, e.keyword]);
}

describe('record guards', () => {
  test('a number out of range (1e999 parses to Infinity) is rejected at its path', () => {
    const record = JSON.parse('{"id":"c-1","at":"2026-01-09T12:00:00Z","x":1e999}') as JsonObject;
    assert.deepEqual(errorsOf(record), [['type_mismatch', '/x', 'non_finite_number']]);
  });

  test('nesting past the documented depth is rejected without recursion, and the schema is not asked', () => {
    const record = { id: 'c-1', at: AT, x: deepRecord(10_000) };
    let asked = false;
    const verdict = checkRecord(
      dataset,
      record,
      () => {
        asked = true;
        return [];
      },
      undefined,
      RANGE,
    );
    assert.ok(!verdict.ok);
    assert.deepEqual(
      verdict.errors.map((e) => [e.kind, e.keyword]),
      [['constraint_violation', 'too_deep']],
    );
    assert.equal(asked, false);
    assert.deepEqual(shapeProblems({ x: deepRecord(MAX_RECORD_DEPTH - 3) }), [], 'at the limit it is fine');
  });

  test('a record too deep for events is carried cut and finite', () => {
    const copy = carriableCopy({ a: deepRecord(5_000), b: Number.POSITIVE_INFINITY, c: [1, Number.NaN] });
    assert.doesNotThrow(() => JSON.stringify(copy));
    assert.equal(copy.b, null);
    assert.deepEqual(copy.c, [1, null]);
    assert.deepEqual(shapeProblems(copy), []);
  });

  test('an entity id with NUL, a control character, empty or over 256 characters is rejected', () => {
    for (const id of ['c\u00001', 'c\u001b1', 'c\u007f', '', 'x'.repeat(257)]) {
      assert.deepEqual(errorsOf({ id, at: AT }), [['constraint_violation', '/id', 'entityKey']], JSON.stringify(id));
    }
    assert.deepEqual(errorsOf({ id: 'ünïcödé-ok', at: AT }), []);
  });

  test('a recordId with a control character makes its item unreadable, the other items still count', () => {
    const body =
      '{"recordId":"r\\u00001","record":{"id":"a","at":"2026-01-09T12:00:00Z"}}\n{"id":"b","at":"2026-01-09T12:00:00Z"}';
    const items = parseRecordsBody('application/x-ndjson', body, 10);
    assert.ok(items.ok);
    assert.deepEqual(
      items.value.map((i) => i.ok),
      [false, true],
    );
  });

  test('a recordId with a control character over Kafka is rejected', () => {
    const verdict = checkRecordEvent(
      dataset,
      { dataset: 'guarded', entityId: 'c-1', recordId: 'r\u0000', record: { id: 'c-1', at: AT }, eventId: 'e-1' },
      noIssues,
      RANGE,
    );
    assert.ok(verdict.kind === 'checked' && !verdict.verdict.ok);
    assert.equal(verdict.verdict.errors[0]!.keyword, 'recordId');
  });

  test('event times before 1970 (year 0000) or past now plus the skew are rejected with the reason', () => {
    for (const at of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '2026-01-10T01:00:01Z']) {
      assert.deepEqual(errorsOf({ id: 'c-1', at }), [['invalid_event_time', '/at', 'eventTime']], at);
    }
    assert.deepEqual(errorsOf({ id: 'c-1', at: '1970-01-01T00:00:00Z' }), []);
    assert.deepEqual(errorsOf({ id: 'c-1', at: '2026-01-10T00:59:59Z' }), [], 'inside the skew');
  });

  test('a 10k-deep NDJSON line is rejected alone; the other lines of the batch are accepted', () => {
    const deep = `{"id":"d","at":"${AT}","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const body = [`{"id":"a","at":"${AT}"}`, deep, `{"id":"b","at":"${AT}","x":1e999}`, `{"id":"c","at":"${AT}"}`];
    const items = parseRecordsBody('application/x-ndjson', body.join('\n'), 10);
    assert.ok(items.ok);
    const decisions = decideBatch(dataset, items.value, noIssues, new Set(), RANGE);
    assert.deepEqual(
      decisions.map((d) => d.kind),
      ['valid', 'invalid', 'invalid', 'valid'],
    );
  });
});

describe('fields named like Object.prototype members', () => {
  const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
  const protoDataset = datasetOf(
    {
      id: { type: 'string' },
      at: { type: 'string' },
      ...Object.fromEntries(names.map((n) => [n, { type: ['string', 'null'] }])),
    },
    ['id', 'at', 'constructor'],
  );
  const validators = new RecordValidators();

  test('a record without them misses the required one and has no unknown field', () => {
    const issues = validators.validate(protoDataset, { id: 'c-1', at: AT });
    assert.deepEqual(
      issues.map((i) => [i.keyword, i.path]),
      [['required', '/constructor']],
    );
  });

  test('a record with them validates and keeps their own values, __proto__ included', () => {
    const record = JSON.parse(
      `{"id":"c-1","at":"${AT}","constructor":"a","toString":"b","__proto__":"c","hasOwnProperty":"d"}`,
    ) as JsonObject;
    const verdict = checkRecord(
      protoDataset,
      record,
      () => validators.validate(protoDataset, record),
      undefined,
      RANGE,
    );
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(
      JSON.stringify(verdict.values),
      `{"id":"c-1","at":"${AT}","constructor":"a","toString":"b","__proto__":"c","hasOwnProperty":"d"}`,
    );
    assert.equal(Object.getPrototypeOf(verdict.values), Object.prototype, 'no prototype was replaced');
  });

  test('absent prototype-named fields read as null, not as the inherited functions', () => {
    const verdict = checkRecord(protoDataset, { id: 'c-1', at: AT }, noIssues, undefined, RANGE);
    assert.ok(verdict.ok);
    assert.deepEqual(verdict.values, {
      id: 'c-1',
      at: AT,
      constructor: null,
      toString: null,
      ['__proto__']: null,
      hasOwnProperty: null,
    });
  });

  test('a sensitive __proto__ field is hashed as a plain field', () => {
    const record = JSON.parse('{"__proto__":"secret","constructor":"x"}') as JsonObject;
    const treatments = JSON.parse('{"__proto__":"hash","constructor":"drop"}') as Record<string, SensitiveTreatment>;
    const out = protectSensitiveFields(record, treatments, hmacHasher('k'.repeat(32)));
    assert.deepEqual(Object.keys(out), ['__proto__']);
    assert.match(JSON.stringify(out), /^\{"__proto__":"[0-9a-f]{64}"\}$/);
  });
});

describe('content keys of records without recordId', () => {
  test('the same dataset and content give the same key whatever the key order; other content another', () => {
    const a = contentRecordKey('d', { id: 'c-1', at: AT, x: { b: 1, a: [1, 2] } });
    assert.equal(a, contentRecordKey('d', { x: { a: [1, 2], b: 1 }, at: AT, id: 'c-1' }));
    assert.notEqual(a, contentRecordKey('e', { id: 'c-1', at: AT, x: { b: 1, a: [1, 2] } }));
    assert.notEqual(a, contentRecordKey('d', { id: 'c-1', at: AT, x: { b: 2, a: [1, 2] } }));
    assert.match(a, /^content:[0-9a-f]{64}$/);
  });
});
