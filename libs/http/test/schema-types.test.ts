// Compile-time checks of FromSchema: the build fails if a type is read wrong; the test only makes them count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FromSchema } from '../src';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

const _body = {
  type: 'object',
  required: ['name', 'tags'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    count: { type: 'integer' },
    window: { type: ['string', 'null'] },
    mode: { enum: ['a', 'b'] },
    tags: { type: 'array', items: { type: 'string' } },
    nested: { type: 'object', additionalProperties: false, required: ['on'], properties: { on: { type: 'boolean' } } },
    map: { type: 'object', additionalProperties: { type: 'number' } },
    kind: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['k'], properties: { k: { const: 'x' } } },
        { type: 'string' },
      ],
    },
  },
} as const;

type Body = FromSchema<typeof _body>;
interface Expected {
  readonly name: string;
  readonly tags: readonly string[];
  readonly count?: number;
  readonly window?: string | null;
  readonly mode?: 'a' | 'b';
  readonly nested?: { readonly on: boolean };
  readonly map?: Readonly<Record<string, number>>;
  readonly kind?: { readonly k: 'x' } | string;
}

test('FromSchema reads the TypeScript type of a request schema', () => {
  // Each property on its own, so that a mismatch names the property that is wrong.
  assert.equal(expectType<Equal<Body['name'], Expected['name']>>(), undefined);
  expectType<Equal<Body['tags'], Expected['tags']>>();
  expectType<Equal<Body['count'], Expected['count']>>();
  expectType<Equal<Body['window'], Expected['window']>>();
  expectType<Equal<Body['mode'], Expected['mode']>>();
  expectType<Equal<Body['nested'], Expected['nested']>>();
  expectType<Equal<Body['map'], Expected['map']>>();
  expectType<Equal<Body['kind'], Expected['kind']>>();
  expectType<Equal<keyof Body, keyof Expected>>();
  const value: Body = { name: 'n', tags: [] };
  // @ts-expect-error a required key is missing
  const missing: Body = { name: 'n' };
  assert.deepEqual([value, missing].length, 2);
});
