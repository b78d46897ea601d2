import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpException } from '@nestjs/common';
import { type DomainError, domainError, err, ok, type Result } from '@mlops/core';
import { respond, throwHttpError } from '../src';

type Failure = DomainError<'not_found' | 'conflict'>;
const statuses = { not_found: 404, conflict: 409 } as const;

function answerOf(thrown: () => unknown): { status: number; body: unknown } {
  try {
    thrown();
  } catch (error) {
    assert.ok(error instanceof HttpException);
    return { status: error.getStatus(), body: error.getResponse() };
  }
  assert.fail('nothing was thrown');
}

test('respond returns the value of a success', () => {
  const result: Result<number, Failure> = ok(3);
  assert.equal(respond(result, statuses), 3);
});

test('a mapped kind answers its status with { error: kind, message, details }', () => {
  const result: Result<number, Failure> = err(domainError('conflict', 'taken', { version: 2 }));
  assert.deepEqual(
    answerOf(() => respond(result, statuses)),
    { status: 409, body: { error: 'conflict', message: 'taken', details: { version: 2 } } },
  );
});

test('an error without details has no details key', () => {
  const error: Failure = domainError('not_found', 'no view "x"');
  assert.deepEqual(
    answerOf(() => throwHttpError(error, statuses)),
    { status: 404, body: { error: 'not_found', message: 'no view "x"' } },
  );
});

test('an unmapped kind is a 500 that does not leak the domain message', () => {
  const error = domainError('surprise', 'internal detail') as unknown as Failure;
  assert.deepEqual(
    answerOf(() => throwHttpError(error, statuses)),
    { status: 500, body: { error: 'internal', message: 'internal error' } },
  );
});
