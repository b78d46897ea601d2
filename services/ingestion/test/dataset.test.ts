import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type DatasetDefinition,
  type DefinitionDraft,
  checkDefinition,
  incompatibilities,
  sameDefinition,
} from '../src/domain/dataset';

const draft: DefinitionDraft = {
  role: 'features',
  recordSchema: {
    type: 'object',
    required: ['id', 'at'],
    properties: {
      id: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      email: { type: ['string', 'null'] },
      score: { type: 'number' },
    },
  },
  entityKeyField: 'id',
  eventTimeField: 'at',
  sensitiveFields: { email: 'hash' },
};

function check(name: string, value: DefinitionDraft): DatasetDefinition {
  const result = checkDefinition(name, value);
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

function problems(name: string, value: DefinitionDraft): string[] {
  const result = checkDefinition(name, value);
  assert.ok(!result.ok, 'expected problems');
  assert.equal(result.error.kind, 'invalid_dataset');
  assert.match(result.error.message, new RegExp(`^dataset "${name}" cannot be registered: `));
  return result.error.details.problems;
}

describe('dataset definitions', () => {
  test('a valid definition is read with defaults', () => {
    const { sensitiveFields: _none, ...withoutSensitive } = draft;
    const definition = check('customers', withoutSensitive);
    assert.deepEqual(definition.sensitiveFields, {});
    assert.equal(definition.role, 'features');
    assert.deepEqual(check('customers', draft).sensitiveFields, { email: 'hash' });
  });

  test('every rule a definition breaks is listed at once', () => {
    const found = problems('Bad Name', {
      role: 'labels',
      recordSchema: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: ['string', 'null'] }, at: { type: 'integer' } },
      },
      entityKeyField: 'id',
      eventTimeField: 'at',
      sensitiveFields: { at: 'drop', nope: 'hash' },
    });
    assert.deepEqual(found, [
      'dataset name "Bad Name" must match ^[a-z][a-z0-9_-]{0,62}$',
      'entityKeyField "id" may only be of type string or integer',
      'eventTimeField "at" must be listed in recordSchema.required',
      'eventTimeField "at" may only be of type string',
      'labelField is required for role "labels"',
      'sensitive field "at" cannot be the entity key, event time or label field',
      'sensitive field "nope" is not a property of recordSchema',
    ]);
  });

  test('the entity key, event time and label must be fields of the record schema', () => {
    const found = problems('customers', {
      ...draft,
      entityKeyField: 'customer',
      eventTimeField: 'when',
      labelField: 'churned',
    });
    assert.deepEqual(found, [
      'entityKeyField "customer" is not a property of recordSchema',
      'eventTimeField "when" is not a property of recordSchema',
      'labelField "churned" is not a property of recordSchema',
    ]);
  });

  test('a labels dataset needs its label field, and the label is never sensitive', () => {
    assert.deepEqual(problems('labels', { ...draft, role: 'labels' }), ['labelField is required for role "labels"']);
    assert.equal(check('labels', { ...draft, role: 'labels', labelField: 'score' }).labelField, 'score');
    assert.deepEqual(problems('labels', { ...draft, role: 'labels', labelField: 'email' }), [
      'sensitive field "email" cannot be the entity key, event time or label field',
    ]);
  });

  test('role, entity key and event time cannot change between versions; identical definitions are the same', () => {
    const v1 = check('customers', draft);
    assert.ok(sameDefinition(v1, check('customers', structuredClone(draft))));
    assert.ok(!sameDefinition(v1, check('customers', { ...draft, owner: 'someone' })));
    const properties = { ...(draft.recordSchema.properties as object), at: { type: 'string' } };
    const moved = check('customers', {
      ...draft,
      role: 'labels',
      labelField: 'score',
      eventTimeField: 'id',
      entityKeyField: 'at',
      recordSchema: { ...draft.recordSchema, properties },
    });
    assert.deepEqual(
      incompatibilities(v1, moved)
        .map((v) => v.rule)
        .sort(),
      ['entityKeyField-changed', 'eventTimeField-changed', 'role-changed'],
    );
  });
});
