import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainError, err, isDomainError, ok, unwrap } from '../src';

test('ok and err carry their value or error and are told apart by ok', () => {
  const good = ok(3);
  const bad = err(domainError('not_found', 'no dataset "x"', { name: 'x' }));
  assert.deepEqual(good, { ok: true, value: 3 });
  assert.deepEqual(bad, { ok: false, error: { kind: 'not_found', message: 'no dataset "x"', details: { name: 'x' } } });
});

test('a domain error without details has no details key', () => {
  assert.deepEqual(Object.keys(domainError('conflict', 'taken')), ['kind', 'message']);
  assert.equal(isDomainError(domainError('conflict', 'taken')), true);
  assert.equal(isDomainError({ kind: 1, message: 'x' }), false);
  assert.equal(isDomainError(null), false);
});

test('unwrap returns the value of ok and throws naming the kind of a failure', () => {
  assert.equal(unwrap(ok('v')), 'v');
  assert.throws(() => unwrap(err(domainError('invalid', 'bad window'))), /invalid: bad window/);
});
