import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestSchemaError, requestValidator } from '../src';

const person = {
  type: 'object',
  required: ['name', 'address'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    age: { type: 'integer', minimum: 0, default: 30 },
    address: {
      type: 'object',
      required: ['city'],
      additionalProperties: false,
      properties: { city: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
    },
  },
} as const;

const check = requestValidator(person);

test('a matching value passes unchanged: no default is filled in', () => {
  const value = { name: 'ada', address: { city: 'london' } };
  assert.deepEqual(check(value), { ok: true, value: { name: 'ada', address: { city: 'london' } } });
});

test('an unknown key is refused and named, at the top and nested', () => {
  const result = check({ name: 'ada', nick: 'a', address: { city: 'london', planet: 'earth' } });
  assert.deepEqual(result, {
    ok: false,
    issues: [
      { path: '/nick', message: 'is not a known key' },
      { path: '/address/planet', message: 'is not a known key' },
    ],
  });
});

test('every missing required key is named, nested ones with their full path', () => {
  const result = check({ address: {} });
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.issues, [
    { path: '/name', message: 'is required' },
    { path: '/address/city', message: 'is required' },
  ]);
});

test('a wrong type is an error, never coerced: "3" is not an integer', () => {
  const result = check({ name: 'ada', age: '3', address: { city: 'london', zip: 12345 } });
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.issues.map((i) => i.path), ['/age', '/address/zip']);
  assert.match(!result.ok ? result.issues[0]!.message : '', /integer/);
});

test('null or a non-object body is refused at the root', () => {
  for (const value of [null, [], 'x', 3]) {
    const result = check(value);
    assert.equal(result.ok, false, JSON.stringify(value));
    assert.equal(!result.ok && result.issues[0]!.path, '');
  }
});

test('an open object schema is refused when compiled, naming where it is open', () => {
  const open = {
    type: 'object',
    additionalProperties: false,
    properties: { inner: { type: 'object', properties: { a: { type: 'string' } } } },
  };
  assert.throws(
    () => requestValidator(open),
    (error: unknown) => error instanceof RequestSchemaError && /#\/properties\/inner/.test(error.message),
  );
  assert.throws(() => requestValidator({ type: 'object' }), RequestSchemaError);
  assert.throws(() => requestValidator({ type: 'array', items: { type: 'object' } }), /#\/items/);
});

test('unevaluatedProperties: false closes the branches it combines', () => {
  const kinds = {
    type: 'object',
    required: ['kind'],
    unevaluatedProperties: false,
    properties: { kind: { enum: ['a', 'b'] } },
    oneOf: [
      { properties: { kind: { const: 'a' }, a: { type: 'number' } } },
      { properties: { kind: { const: 'b' }, b: { type: 'string' } } },
    ],
  } as const;
  const validate = requestValidator(kinds);
  assert.equal(validate({ kind: 'a', a: 1 }).ok, true);
  const wrong = validate({ kind: 'a', b: 'x' });
  assert.equal(wrong.ok, false);
  assert.ok(!wrong.ok && wrong.issues.some((i) => i.path === '/b' && i.message === 'is not a known key'));
});

test('a oneOf of closed objects is closed; one open branch makes it open', () => {
  const closed = (tag: string) => ({
    type: 'object',
    required: ['kind'],
    additionalProperties: false,
    properties: { kind: { const: tag }, [tag]: { type: 'number' } },
  });
  const union = { type: 'object', discriminator: { propertyName: 'kind' }, oneOf: [closed('a'), closed('b')] };
  const validate = requestValidator({ type: 'array', items: union });
  assert.deepEqual(
    validate([
      { kind: 'a', a: 1 },
      { kind: 'b', b: 2 },
    ]),
    {
      ok: true,
      value: [
        { kind: 'a', a: 1 },
        { kind: 'b', b: 2 },
      ],
    },
  );
  // The tag picks the branch: only its errors are reported.
  assert.deepEqual(validate([{ kind: 'a', b: 1 }]), {
    ok: false,
    issues: [{ path: '/0/b', message: 'is not a known key' }],
  });
  const { additionalProperties: _open, ...openB } = closed('b');
  assert.throws(() => requestValidator({ ...union, oneOf: [closed('a'), openB] }), /#\/oneOf\/1/);
});

test('a schema ajv refuses (unknown keyword) is a RequestSchemaError', () => {
  assert.throws(
    () => requestValidator({ type: 'object', additionalProperties: false, properties: {}, nonsense: 1 }),
    RequestSchemaError,
  );
});

test('a schema is compiled once: the same object gives validators sharing one compiled function', () => {
  // ajv throws when compiling a second schema with an $id it already holds, so this fails without the cache.
  const schema = { $id: 'urn:test:once', type: 'object', additionalProperties: false, properties: {} };
  requestValidator(schema);
  assert.doesNotThrow(() => requestValidator(schema));
});
