// The lean AsyncResource#bind keeps what binding means: the async context, `this`, arguments, result and length.
import assert from 'node:assert/strict';
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { test } from 'node:test';
import { installLeanAsyncResourceBind } from '../src/infrastructure/lean-async-bind';

installLeanAsyncResourceBind();
const storage = new AsyncLocalStorage<string>();

test('a bound function runs in the context of its resource, with the caller`s this and arguments', () => {
  const resource = storage.run('request-1', () => new AsyncResource('probe'));
  const bound = resource.bind(function (this: unknown, a: number, b: number) {
    return { store: storage.getStore(), self: this, sum: a + b };
  });
  const self = { name: 'caller' };
  const seen = storage.run('other', () => bound.call(self, 2, 3));
  assert.deepEqual(seen, { store: 'request-1', self, sum: 5 });
  assert.equal(bound.length, 2);
  assert.equal(storage.getStore(), undefined, 'the context is restored after the call');
});

test('thisArg fixes this; the static bind and errors behave as before, without the deprecated accessor', () => {
  const fixed = { name: 'fixed' };
  const resource = storage.run('request-2', () => new AsyncResource('probe'));
  // The thisArg parameter is Node's (the type declarations leave it out).
  const bindWithThis = resource.bind.bind(resource) as unknown as (fn: () => unknown, self: unknown) => () => unknown;
  const bound = bindWithThis(function (this: unknown) {
    return [storage.getStore(), this];
  }, fixed);
  assert.deepEqual(bound.call({ name: 'ignored' }), ['request-2', fixed]);
  const staticBound = storage.run('request-3', () => AsyncResource.bind((x: number) => [storage.getStore(), x * 2]));
  assert.deepEqual(staticBound(21), ['request-3', 42]);
  assert.throws(() => resource.bind(42 as unknown as () => void), TypeError);
  assert.throws(
    () =>
      resource.bind(() => {
        throw new Error('boom');
      })(),
    /boom/,
  );
  assert.equal('asyncResource' in bound, false);
});
