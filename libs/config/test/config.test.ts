import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, bool, describeConfig, int, list, loadConfig, oneOf, port, str, url } from '../src';

const spec = {
  KAFKA_BROKERS: list({ description: 'Kafka bootstrap servers' }),
  PORT: port({ description: 'HTTP port', default: 3000 }),
  DATABASE_URL: url({ description: 'Postgres URL', protocols: ['postgres', 'postgresql'], secret: true }),
  MODE: oneOf(['embedded', 'server'] as const, { description: 'mode', default: 'embedded' }),
  VERBOSE: bool({ description: 'verbose logs', default: false }),
  BATCH: int({ description: 'batch size', default: 100, min: 1, max: 1000 }),
  NOTE: str({ description: 'free text', optional: true }),
};

test('reads, parses and defaults every key', () => {
  const config = loadConfig('svc', spec, {
    KAFKA_BROKERS: 'a:1, b:2',
    DATABASE_URL: 'postgres://u@h:5432/db',
    BATCH: '7',
  });
  assert.deepEqual(config, {
    KAFKA_BROKERS: ['a:1', 'b:2'],
    PORT: 3000,
    DATABASE_URL: 'postgres://u@h:5432/db',
    MODE: 'embedded',
    VERBOSE: false,
    BATCH: 7,
    NOTE: undefined,
  });
});

test('names every missing or bad key in one error', () => {
  assert.throws(
    () =>
      loadConfig('svc', spec, {
        PORT: '99999',
        DATABASE_URL: 'mysql://x@y/z',
        MODE: 'cloud',
        VERBOSE: 'maybe',
        BATCH: '1.5',
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const text = error.problems.join('\n');
      for (const name of [
        'KAFKA_BROKERS is required',
        'PORT must be <= 65535',
        'DATABASE_URL must use one of',
        'MODE must be one of',
        'VERBOSE must be true or false',
        'BATCH must be an integer',
      ]) {
        assert.match(text, new RegExp(name));
      }
      assert.equal(error.problems.length, 6);
      return true;
    },
  );
});

test('a secret cannot have a default, and the docs mark it', () => {
  assert.throws(() => str({ description: 'token', secret: true, default: 'x' }), /secret/);
  assert.match(describeConfig(spec), /\| `DATABASE_URL` \| url \| \(secret, no default\) \| Postgres URL \|/);
});
