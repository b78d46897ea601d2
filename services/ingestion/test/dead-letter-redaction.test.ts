import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DROPPED_RECORD, redactRecordDeadLetter } from '../src/domain/dead-letter-redaction';
import { hmacHasher } from '../src/domain/sensitive-fields';

const hash = hmacHasher('k'.repeat(32));
const fieldsOf = async (dataset: string) =>
  dataset === 'customers' ? ({ email: 'hash', ssn: 'drop' } as const) : undefined;
const data = (dataset: string) => ({
  dataset,
  record: { customer_id: 'c-1', email: 'a@b.c', ssn: '123', plan: 'basic' },
});
const parse = (value: Buffer) => JSON.parse(value.toString()) as Record<string, any>;

describe('dead letters of record events', () => {
  test("binary mode: the dataset's sensitive fields are hashed or dropped, the rest kept", async () => {
    const out = parse(await redactRecordDeadLetter(Buffer.from(JSON.stringify(data('customers'))), fieldsOf, hash));
    assert.deepEqual(out.record, { customer_id: 'c-1', email: hash('a@b.c'), plan: 'basic' });
  });

  test('structured mode: the record inside the envelope is redacted', async () => {
    const envelope = { specversion: '1.0', id: 'e-1', type: 'mlops.data.record.v1', data: data('customers') };
    const out = parse(await redactRecordDeadLetter(Buffer.from(JSON.stringify(envelope)), fieldsOf, hash));
    assert.equal(out.id, 'e-1');
    assert.equal(out.data.record.email, hash('a@b.c'));
    assert.equal(out.data.record.ssn, undefined);
  });

  test('an unknown dataset, or one that cannot be read, drops the whole record', async () => {
    const unknown = parse(await redactRecordDeadLetter(Buffer.from(JSON.stringify(data('other'))), fieldsOf, hash));
    assert.deepEqual(unknown.record, DROPPED_RECORD);
    const failing = async () => {
      throw new Error('postgres is down');
    };
    const unread = parse(await redactRecordDeadLetter(Buffer.from(JSON.stringify(data('customers'))), failing, hash));
    assert.deepEqual(unread.record, DROPPED_RECORD);
  });

  test('without a hash key, fields to hash are dropped, never kept in clear', async () => {
    const out = parse(
      await redactRecordDeadLetter(Buffer.from(JSON.stringify(data('customers'))), fieldsOf, undefined),
    );
    assert.deepEqual(out.record, { customer_id: 'c-1', plan: 'basic' });
  });

  test('a value that is not a JSON object is dropped entirely', async () => {
    assert.equal((await redactRecordDeadLetter(Buffer.from('email=a@b.c'), fieldsOf, hash)).length, 0);
  });
});
