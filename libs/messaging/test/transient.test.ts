import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { DependencyUnavailableError, PermanentHandlerError, PoisonMessageError, isTransientError } from '../src';

describe('which failures mean a dependency is unavailable', () => {
  test('a refused Postgres connection, as the pg driver reports it', async () => {
    const client = new Client({ host: '127.0.0.1', port: 1, user: 'nobody', connectionTimeoutMillis: 2_000 });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error, 'connecting to port 1 fails');
    assert.equal(isTransientError(error), true);
  });

  test('Postgres SQLSTATEs of connection loss, shutdown, deadlock and serialization, also wrapped as TypeORM does', () => {
    for (const code of ['08006', '08001', '57P01', '57P03', '40001', '40P01', '53300']) {
      assert.equal(isTransientError(Object.assign(new Error('x'), { code })), true, code);
      assert.equal(
        isTransientError({ name: 'QueryFailedError', message: 'x', driverError: { code } }),
        true,
        `wrapped ${code}`,
      );
    }
  });

  test('Postgres errors a retry cannot fix stay permanent or unknown', () => {
    for (const code of ['23505', '42P01', '22P02', '42601']) {
      assert.equal(isTransientError(Object.assign(new Error('x'), { code })), false, code);
    }
  });

  test('network errors, causes, aggregate connection attempts, KafkaJS connection errors, our own signal', () => {
    assert.equal(isTransientError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
    assert.equal(
      isTransientError(new Error('query failed', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) })),
      true,
    );
    assert.equal(isTransientError(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })])), true);
    assert.equal(
      isTransientError(Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' })),
      true,
    );
    assert.equal(isTransientError(new TypeError('fetch failed')), true);
    assert.equal(isTransientError(new DependencyUnavailableError('clickhouse', 'down')), true);
  });

  test('bugs, poison and refusals are not mistaken for an outage', () => {
    assert.equal(isTransientError(new TypeError("Cannot read properties of undefined (reading 'x')")), false);
    assert.equal(isTransientError(new PermanentHandlerError('unknown dataset')), false);
    assert.equal(isTransientError(new PoisonMessageError('schema-violation', 'bad')), false);
    assert.equal(
      isTransientError(new AggregateError([new Error('a'), Object.assign(new Error('b'), { code: 'ECONNREFUSED' })])),
      false,
    );
    assert.equal(isTransientError('ECONNREFUSED'), false);
    assert.equal(isTransientError(null), false);
  });
});
