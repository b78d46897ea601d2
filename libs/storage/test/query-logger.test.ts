import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ParameterFreeQueryLogger } from '../src/postgres';

function capture(): { lines: string[]; logger: ParameterFreeQueryLogger } {
  const lines: string[] = [];
  return { lines, logger: new ParameterFreeQueryLogger({ error: (m) => lines.push(m), warn: (m) => lines.push(m) }) };
}

describe('query logs', () => {
  test('a failing query logs its error and statement, never its parameters', () => {
    const { lines, logger } = capture();
    const error = Object.assign(new Error('duplicate key value violates unique constraint "online_pkey"'), {
      code: '23505',
    });
    logger.logQueryError(error, 'INSERT INTO "fs"."online" (entity_id, vector)\n  VALUES ($1, $2)', [
      'customer-secret-id',
      '{"spend": 41.5}',
    ]);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /23505 duplicate key .* statement: INSERT INTO "fs"."online" \(entity_id, vector\) VALUES \(\$1, \$2\)$/,
    );
    assert.ok(!lines[0]!.includes('customer-secret-id') && !lines[0]!.includes('41.5'));
  });

  test('a data exception quoting the offending value has it elided', () => {
    const { lines, logger } = capture();
    const error = Object.assign(new Error('invalid input syntax for type integer: "alice@example.com"'), {
      code: '22P02',
    });
    logger.logQueryError(error, 'SELECT 1 WHERE $1::int > 0', ['alice@example.com']);
    assert.ok(!lines[0]!.includes('alice@example.com'), lines[0]);
  });

  test('successful queries are not logged', () => {
    const { lines, logger } = capture();
    logger.logQuery();
    assert.deepEqual(lines, []);
  });
});
