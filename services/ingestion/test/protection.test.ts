// Which dataset versions weaken the protection of sensitive fields, and who may register them: known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkProtectionChange, weakenedProtection } from '../src/domain/protection';

test('removing a sensitive field weakens it to "none", whatever its treatment was', () => {
  assert.deepEqual(weakenedProtection({ email: 'hash', ssn: 'drop' }, {}), [
    { field: 'email', from: 'hash', to: 'none' },
    { field: 'ssn', from: 'drop', to: 'none' },
  ]);
});

test('"drop" turned into "hash" weakens the field; "hash" turned into "drop" does not', () => {
  assert.deepEqual(weakenedProtection({ ssn: 'drop', email: 'hash' }, { ssn: 'hash', email: 'drop' }), [
    { field: 'ssn', from: 'drop', to: 'hash' },
  ]);
});

test('the same treatments, or new sensitive fields, weaken nothing', () => {
  assert.deepEqual(weakenedProtection({ email: 'hash' }, { email: 'hash', phone: 'drop' }), []);
  assert.deepEqual(weakenedProtection({}, { email: 'hash' }), []);
});

test('a field named like an Object.prototype member is compared as a field', () => {
  assert.deepEqual(weakenedProtection(JSON.parse('{"constructor":"drop"}') as Record<string, 'drop'>, {}), [
    { field: 'constructor', from: 'drop', to: 'none' },
  ]);
});

test('nothing weakened passes for any caller', () => {
  assert.equal(checkProtectionChange('ds', [], ['reader'], false).ok, true);
});

test('a weakening by a caller without admin is forbidden, naming the fields', () => {
  const result = checkProtectionChange('ds', [{ field: 'email', from: 'hash', to: 'none' }], ['data-steward'], true);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.error.kind, 'protection_change_forbidden');
  assert.match(result.error.message, /"email" \(hash -> in clear\).*needs role admin/);
  assert.deepEqual(result.error.details.fields, [{ field: 'email', from: 'hash', to: 'none' }]);
});

test('a weakening by an admin without acknowledgement is refused, saying how to acknowledge', () => {
  const result = checkProtectionChange('ds', [{ field: 'ssn', from: 'drop', to: 'hash' }], ['admin'], false);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.error.kind, 'protection_change_unacknowledged');
  assert.match(result.error.message, /"ssn" \(drop -> hash\).*acknowledgeProtectionChange=true/);
});

test('a weakening by an admin who acknowledged it passes', () => {
  assert.equal(checkProtectionChange('ds', [{ field: 'ssn', from: 'drop', to: 'hash' }], ['admin'], true).ok, true);
});
