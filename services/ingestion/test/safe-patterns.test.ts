import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetVersion } from '../src/domain/dataset';
import { RecordValidators } from '../src/infrastructure/record-validators';

/** Just the parts of a dataset version the validators read. */
function datasetWith(name: string, recordSchema: object): DatasetVersion {
  return { name, version: 1, recordSchema } as unknown as DatasetVersion;
}

const catastrophic = { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } };

describe('user-supplied patterns run in linear time', () => {
  test('a catastrophic-backtracking pattern against a 10k-character string answers at once, with the right verdict', () => {
    const validators = new RecordValidators();
    const dataset = datasetWith('redos', catastrophic);
    // On a backtracking engine this one call would not return within the test timeout.
    const issues = validators.validate(dataset, { code: `${'a'.repeat(10_000)}!` });
    assert.deepEqual(
      issues.map((issue) => [issue.path, issue.keyword]),
      [['/code', 'pattern']],
    );
    assert.deepEqual(validators.validate(dataset, { code: 'a'.repeat(10_000) }), []);
  });

  test('patternProperties run on the same engine', () => {
    const validators = new RecordValidators();
    const dataset = datasetWith('redos-keys', { type: 'object', patternProperties: { '^(x+)+$': { type: 'number' } } });
    const key = `${'x'.repeat(5_000)}`;
    assert.equal(validators.validate(dataset, { [key]: 'not a number' }).length, 1);
    assert.deepEqual(validators.validate(dataset, { [`${key}y`]: 'any' }), []);
  });

  test('ECMAScript syntax is translated: \\u escapes, \\d classes, named groups, unicode properties', () => {
    const validators = new RecordValidators();
    const dataset = datasetWith('ecma', {
      type: 'object',
      properties: {
        letterThenDigits: { type: 'string', pattern: '^\\u0041\\d{2}$' },
        year: { type: 'string', pattern: '^(?<year>\\d{4})-' },
        word: { type: 'string', pattern: '^\\p{L}+$' },
      },
    });
    assert.deepEqual(validators.validate(dataset, { letterThenDigits: 'A12', year: '2026-12', word: 'héllo' }), []);
    const issues = validators.validate(dataset, { letterThenDigits: 'B12', year: '26-12', word: 'h3llo' });
    assert.deepEqual(issues.map((issue) => issue.path).sort(), ['/letterThenDigits', '/word', '/year']);
  });

  test('backreferences and lookaround are refused at registration, naming the pattern and why', () => {
    const validators = new RecordValidators();
    for (const pattern of ['^(a)\\1$', '^(?=a)a$', '^(?<!a)b$']) {
      const problem = validators.compileProblem({ type: 'object', properties: { f: { type: 'string', pattern } } });
      assert.ok(problem, `pattern ${pattern} should be refused`);
      assert.match(
        problem,
        new RegExp(`pattern ${JSON.stringify(pattern).replace(/[\\^$()?=<!]/g, '\\$&')} is not supported`),
      );
      assert.match(problem, /linear-time engine/);
    }
    assert.equal(validators.compileProblem(catastrophic), undefined);
  });
});
