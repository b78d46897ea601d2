import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type JsonSchema, type RequestIssue, requestValidator } from '@mlops/http';
import { datasetVersionParams } from '../src/datasets/get-dataset/get-dataset.request';
import { datasetNameParams, registerDatasetRequest } from '../src/datasets/register-dataset/register-dataset.request';
import { ingestRecordsQuery } from '../src/records/ingest-records/ingest-records.request';

const definition = {
  role: 'features',
  recordSchema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    required: ['id', 'at'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1 },
      at: { type: 'string', format: 'date-time' },
      email: { type: ['string', 'null'], format: 'email' },
      plan: { enum: ['basic', 'premium'] },
      score: { type: 'number', minimum: 0, description: 'a score' },
    },
  },
  entityKeyField: 'id',
  eventTimeField: 'at',
  sensitiveFields: { email: 'hash' },
  description: 'customers',
  owner: 'crm',
};

function issues(schema: JsonSchema, value: unknown): RequestIssue[] {
  const check = requestValidator(schema)(value);
  return check.ok ? [] : check.issues;
}
const withRecordProperty = (field: string, schema: unknown) => ({
  ...definition,
  recordSchema: { ...definition.recordSchema, properties: { ...definition.recordSchema.properties, [field]: schema } },
});

describe('the dataset definition request schema', () => {
  test('a complete definition passes', () => {
    assert.deepEqual(issues(registerDatasetRequest, definition), []);
  });

  test('an unknown key of the definition is refused by name', () => {
    assert.deepEqual(issues(registerDatasetRequest, { ...definition, colour: 'blue' }), [
      { path: '/colour', message: 'is not a known key' },
    ]);
  });

  test('a typo in a field schema is an unknown key at its path', () => {
    assert.deepEqual(issues(registerDatasetRequest, withRecordProperty('score', { type: 'number', minimun: 0 })), [
      { path: '/recordSchema/properties/score/minimun', message: 'is not a known key' },
    ]);
  });

  test('a field name that is not an identifier is refused', () => {
    assert.deepEqual(issues(registerDatasetRequest, withRecordProperty('bad-name', { type: 'string' })), [
      { path: '/recordSchema/properties/bad-name', message: 'is not a known key' },
    ]);
  });

  test('a field must be a scalar declared by type, enum or const', () => {
    const nested = issues(registerDatasetRequest, withRecordProperty('nested', { type: 'object' }));
    assert.ok(
      nested.some((i) => i.path === '/recordSchema/properties/nested/type'),
      JSON.stringify(nested),
    );
    const undeclared = issues(registerDatasetRequest, withRecordProperty('anything', { description: 'no type' }));
    assert.deepEqual(undeclared, [
      { path: '/recordSchema/properties/anything/type', message: 'is required' },
      { path: '/recordSchema/properties/anything/enum', message: 'is required' },
      { path: '/recordSchema/properties/anything/const', message: 'is required' },
      { path: '/recordSchema/properties/anything', message: 'must match a schema in anyOf' },
    ]);
    const objectEnum = issues(registerDatasetRequest, withRecordProperty('choice', { enum: [{ a: 1 }] }));
    assert.ok(
      objectEnum.some((i) => i.path === '/recordSchema/properties/choice/enum/0'),
      JSON.stringify(objectEnum),
    );
    assert.deepEqual(issues(registerDatasetRequest, withRecordProperty('flag', { const: true })), []);
  });

  test('the record schema is an object schema with at least one field', () => {
    const empty = issues(registerDatasetRequest, { ...definition, recordSchema: { type: 'object', properties: {} } });
    assert.deepEqual(empty, [{ path: '/recordSchema/properties', message: 'must NOT have fewer than 1 properties' }]);
    const array = issues(registerDatasetRequest, {
      ...definition,
      recordSchema: { ...definition.recordSchema, type: 'array' },
    });
    assert.deepEqual(array, [{ path: '/recordSchema/type', message: 'must be equal to constant' }]);
  });

  test('required keys, the role and sensitive treatments are named when wrong', () => {
    const { role: _role, entityKeyField: _key, ...partial } = definition;
    assert.deepEqual(issues(registerDatasetRequest, { ...partial, sensitiveFields: { email: 'encrypt' } }), [
      { path: '/role', message: 'is required' },
      { path: '/entityKeyField', message: 'is required' },
      { path: '/sensitiveFields/email', message: 'must be one of "hash", "drop"' },
    ]);
    assert.deepEqual(issues(registerDatasetRequest, { ...definition, role: 'targets' }), [
      { path: '/role', message: 'must be one of "features", "labels"' },
    ]);
  });
});

describe('path and query schemas', () => {
  test('a dataset name must be one a dataset can have', () => {
    assert.deepEqual(issues(datasetNameParams, { name: 'customers_v2' }), []);
    assert.deepEqual(issues(datasetNameParams, { name: 'Bad Name' }), [
      { path: '/name', message: 'must match pattern "^[a-z][a-z0-9_-]{0,62}$"' },
    ]);
  });

  test('a version is a positive integer, in the path and in the query', () => {
    assert.deepEqual(issues(datasetVersionParams, { name: 'customers', version: '12' }), []);
    for (const version of ['0', '-1', '1.5', 'latest']) {
      assert.equal(issues(datasetVersionParams, { name: 'customers', version }).length, 1, version);
      assert.equal(issues(ingestRecordsQuery, { version }).length, 1, version);
    }
    assert.deepEqual(issues(ingestRecordsQuery, {}), []);
    assert.deepEqual(issues(ingestRecordsQuery, { verison: '2' }), [
      { path: '/verison', message: 'is not a known key' },
    ]);
  });
});
