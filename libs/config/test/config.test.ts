import { describe, test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import {
  ConfigError,
  bool,
  describeConfig,
  int,
  kafkaKeys,
  kafkaSecurity,
  list,
  loadConfig,
  oneOf,
  port,
  str,
  url,
} from '../src';

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
  assert.match(
    describeConfig(spec),
    /\| `DATABASE_URL` \| url \| \(secret, no default; or `DATABASE_URL_FILE`\) \| Postgres URL \|/,
  );
});

test('a secret is read from <KEY>_FILE when the key itself is unset; an unreadable file is named', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'config-file-'));
  const file = path.join(dir, 'database_url');
  writeFileSync(file, 'postgres://svc:s3cret@h:5432/db\n');
  const config = loadConfig('svc', spec, { KAFKA_BROKERS: 'a:1', DATABASE_URL_FILE: file });
  assert.equal(config.DATABASE_URL, 'postgres://svc:s3cret@h:5432/db');
  assert.throws(
    () => loadConfig('svc', spec, { KAFKA_BROKERS: 'a:1', DATABASE_URL_FILE: path.join(dir, 'missing') }),
    /DATABASE_URL_FILE=.*missing cannot be read: ENOENT/,
  );
  // Only secrets: a non-secret key ignores <KEY>_FILE.
  assert.throws(
    () => loadConfig('svc', spec, { KAFKA_BROKERS_FILE: file, DATABASE_URL_FILE: file }),
    /KAFKA_BROKERS is required/,
  );
});

describe('Kafka connection keys', () => {
  const base = { KAFKA_BROKERS: 'b:9092' };

  test('no mechanism: no SASL; KAFKA_SSL alone turns TLS on', () => {
    assert.deepEqual(kafkaSecurity(loadConfig('svc', kafkaKeys, base)), {});
    assert.deepEqual(kafkaSecurity(loadConfig('svc', kafkaKeys, { ...base, KAFKA_SSL: 'true' })), { ssl: true });
  });

  test('a mechanism with user and password gives the kafkajs sasl option', () => {
    const config = loadConfig('svc', kafkaKeys, {
      ...base,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'mlops-ingestion',
      KAFKA_SASL_PASSWORD: 'pw',
      KAFKA_SSL: 'true',
    });
    assert.deepEqual(kafkaSecurity(config), {
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'mlops-ingestion', password: 'pw' },
    });
  });

  test('a mechanism without user or password, or credentials without a mechanism, is a ConfigError naming the keys', () => {
    const noPassword = loadConfig('svc', kafkaKeys, {
      ...base,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
    });
    assert.throws(
      () => kafkaSecurity(noPassword, 'svc'),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.length === 1 &&
        /KAFKA_SASL_PASSWORD is required with KAFKA_SASL_MECHANISM=plain/.test(error.problems[0]!),
    );
    const noMechanism = loadConfig('svc', kafkaKeys, { ...base, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
    assert.throws(() => kafkaSecurity(noMechanism), /KAFKA_SASL_MECHANISM is not/);
  });

  test('an unknown mechanism is refused, and the password is a secret without a default', () => {
    assert.throws(() => loadConfig('svc', kafkaKeys, { ...base, KAFKA_SASL_MECHANISM: 'gssapi' }), /must be one of/);
    assert.equal(kafkaKeys.KAFKA_SASL_PASSWORD.secret, true);
    assert.equal(kafkaKeys.KAFKA_SASL_PASSWORD.default, undefined);
  });
});
