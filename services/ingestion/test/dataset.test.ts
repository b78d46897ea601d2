import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type DatasetDefinition, incompatibilities, parseDefinition, sameDefinition } from '../src/domain/dataset';

const body = {
  role: 'features',
  recordSchema: {
    type: 'object',
    required: ['id', 'at'],
    properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' }, email: { type: ['string', 'null'] }, score: { type: 'number' } },
  },
  entityKeyField: 'id',
  eventTimeField: 'at',
  sensitiveFields: { email: 'hash' },
};

function parse(name: string, value: unknown): DatasetDefinition {
  const result = parseDefinition(name, value);
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

function problems(name: string, value: unknown): string[] {
  const result = parseDefinition(name, value);
  assert.ok(!result.ok, 'expected problems');
  assert.equal(result.error.kind, 'invalid_dataset');
  return result.error.details.problems;
}

describe('dataset definitions', () => {
  test('a valid definition is read with defaults', () => {
    const definition = parse('customers', { ...body, sensitiveFields: undefined });
    assert.deepEqual(definition.sensitiveFields, {});
    assert.equal(definition.role, 'features');
    assert.deepEqual(parse('customers', body).sensitiveFields, { email: 'hash' });
  });

  test('every problem is listed at once', () => {
    const found = problems('Bad Name', {
      role: 'labels',
      recordSchema: { type: 'object', required: ['id'], properties: { id: { type: ['string', 'null'] }, at: { type: 'integer' }, 'bad-name': { type: 'string' }, nested: { type: 'array' } } },
      entityKeyField: 'id',
      eventTimeField: 'at',
      sensitiveFields: { at: 'drop', nope: 'hash', id: 'encrypt' },
      colour: 'blue',
    });
    const all = found.join('\n');
    for (const expected of [
      /dataset name "Bad Name" must match/,
      /unknown property "colour"/,
      /field name "bad-name" must match/,
      /field "nested" must declare scalar type/,
      /entityKeyField "id" may only be of type string or integer/,
      /eventTimeField "at" must be listed in recordSchema.required/,
      /eventTimeField "at" may only be of type string/,
      /labelField must be a field name/,
      /sensitive field "at" cannot be the entity key, event time or label field/,
      /sensitive field "nope" is not a property/,
      /sensitiveFields.id must be "hash" or "drop"/,
    ]) {
      assert.match(all, expected);
    }
  });

  test('a labels dataset needs its label field', () => {
    assert.match(problems('labels', { ...body, role: 'labels' }).join(), /labelField must be a field name/);
    assert.equal(parse('labels', { ...body, role: 'labels', labelField: 'score' }).labelField, 'score');
  });

  test('role, entity key and event time cannot change between versions; identical definitions are the same', () => {
    const v1 = parse('customers', body);
    assert.ok(sameDefinition(v1, parse('customers', structuredClone(body))));
    assert.ok(!sameDefinition(v1, parse('customers', { ...body, owner: 'someone' })));
    const moved = parse('customers', { ...body, role: 'labels', labelField: 'score', eventTimeField: 'id', entityKeyField: 'at', recordSchema: { ...body.recordSchema, properties: { ...body.recordSchema.properties, at: { type: 'string' } } } });
    assert.deepEqual(incompatibilities(v1, moved).map((v) => v.rule).sort(), ['entityKeyField-changed', 'eventTimeField-changed', 'role-changed']);
  });
});
