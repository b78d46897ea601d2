import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KafkaMessage } from 'kafkajs';
import { eventually, header, requireEnv, uid } from '../src';

describe('test helpers', () => {
  test('eventually returns the first value that is neither undefined nor false, from sync or async probes', async () => {
    let calls = 0;
    assert.equal(await eventually(() => (++calls >= 3 ? 'ready' : false), 'the third call'), 'ready');
    assert.equal(calls, 3);
    assert.equal(await eventually(async () => 0, 'zero is a value'), 0);
  });

  test('eventually gives up after its timeout, naming what it waited for', async () => {
    await assert.rejects(
      eventually(() => undefined, 'a thing that never comes', 250),
      /timed out after 250 ms waiting for a thing that never comes/,
    );
  });

  test('requireEnv refuses an unset or empty variable and says how to set it', () => {
    const name = `MLOPS_TESTING_${uid('unset').replace(/-/g, '_').toUpperCase()}`;
    assert.throws(() => requireEnv(name), new RegExp(`${name} is not set: run the tests with \`npm test\``));
    process.env[name] = '';
    assert.throws(() => requireEnv(name), /is not set/);
    process.env[name] = 'x';
    assert.equal(requireEnv(name), 'x');
    delete process.env[name];
  });

  test('uid keeps the prefix and differs every time', () => {
    assert.match(uid('group'), /^group-[0-9a-f]{8}$/);
    assert.notEqual(uid('group'), uid('group'));
  });

  test('header reads the first value of a header as a string', () => {
    const message = {
      headers: { ce_id: Buffer.from('abc'), many: [Buffer.from('one'), Buffer.from('two')] },
    } as unknown as KafkaMessage;
    assert.equal(header(message, 'ce_id'), 'abc');
    assert.equal(header(message, 'many'), 'one');
    assert.equal(header(message, 'absent'), undefined);
  });
});
