import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetVersion } from '../src/domain/dataset';
import { contentRecordKey } from '../src/domain/event-ids';
import type { JsonObject } from '../src/domain/json';
import {
  type Delivery,
  type EmittingDecision,
  type ItemDecision,
  acceptedRecordIds,
  batchAnswer,
  decideBatch,
  recordKeysOf,
  recordResult,
  settle,
} from '../src/domain/record-batch';
import { type SchemaIssue, checkRecordEvent } from '../src/domain/record-check';
import type { BodyItem } from '../src/domain/records-body';

const dataset: DatasetVersion = {
  name: 'customers',
  version: 2,
  role: 'features',
  recordSchema: {
    type: 'object',
    properties: { id: { type: 'string' }, at: { type: 'string' }, plan: { type: 'string' } },
  },
  entityKeyField: 'id',
  eventTimeField: 'at',
  sensitiveFields: {},
  registeredAt: new Date(0),
};
const AT = '2025-11-20T08:00:00Z';
const item = (index: number, record: JsonObject, recordId?: string): BodyItem => ({
  index,
  ok: true,
  record,
  ...(recordId !== undefined ? { recordId } : {}),
});
// A stand-in validator: a record without "plan" misses a required field.
const issuesOf = (record: JsonObject): SchemaIssue[] =>
  'plan' in record ? [] : [{ path: '/plan', keyword: 'required', message: 'is required' }];

describe('deciding a batch', () => {
  test('readable items are looked up by record id, or by content key when they have none', () => {
    const items: BodyItem[] = [item(0, {}, 'a'), { index: 1, ok: false, error: 'bad' }, item(2, {}), item(3, {}, 'b')];
    assert.deepEqual(recordKeysOf('customers', items), ['a', contentRecordKey('customers', {}), 'b']);
  });

  test('each item is unreadable, invalid, valid, or a duplicate of an id accepted before or earlier in the batch', () => {
    const items: BodyItem[] = [
      { index: 0, line: 1, ok: false, error: 'line 1 is not valid JSON' },
      item(1, { id: 'c-1', at: AT }, 'r-1'),
      item(2, { id: 'c-2', at: AT, plan: 'basic' }, 'r-2'),
      item(3, { id: 'c-3', at: AT, plan: 'basic' }, 'r-old'),
      item(4, { id: 'c-2', at: AT, plan: 'basic' }, 'r-2'),
      item(5, { id: 'c-5', at: AT, plan: 'basic' }),
      item(6, { id: 'c-6', at: AT }, 'r-old'),
    ];
    const decisions = decideBatch(dataset, items, issuesOf, new Set(['r-old']));
    assert.deepEqual(
      decisions.map((d) => [d.item.index, d.kind]),
      [
        [0, 'unreadable'],
        [1, 'invalid'],
        [2, 'valid'],
        [3, 'duplicate'],
        [4, 'duplicate'],
        [5, 'valid'],
        // An invalid record is rejected again even when its id was accepted before.
        [6, 'invalid'],
      ],
    );
  });

  test('an invalid record id does not make a later valid record with the same id a duplicate', () => {
    const items = [item(0, { id: 'c-1', at: AT }, 'r-1'), item(1, { id: 'c-1', at: AT, plan: 'basic' }, 'r-1')];
    assert.deepEqual(
      decideBatch(dataset, items, issuesOf, new Set()).map((d) => d.kind),
      ['invalid', 'valid'],
    );
  });
});

describe('answering a batch', () => {
  const decisions: ItemDecision[] = decideBatch(
    dataset,
    [
      { index: 0, line: 1, ok: false, error: 'line 1 is not valid JSON' },
      item(1, { id: 'c-1', at: AT }, 'r-1'),
      item(2, { id: 'c-2', at: AT, plan: 'basic' }, 'r-2'),
      item(3, { id: 'c-3', at: AT, plan: 'basic' }, 'r-old'),
      item(4, { id: 'c-4', at: AT, plan: 'basic' }, 'r-4'),
      item(5, { id: 'c-5', at: AT, plan: 'basic' }),
    ],
    issuesOf,
    new Set(['r-old']),
  );
  const deliveries = (decision: EmittingDecision): Delivery =>
    decision.item.index === 4
      ? { kind: 'too_large', reason: 'event is 2000000 bytes' }
      : { kind: 'sent', eventId: `e-${decision.item.index}` };

  test('each outcome follows from its decision and how its event was delivered', () => {
    assert.deepEqual(
      decisions.map((d) => settle(d, deliveries).kind),
      ['unreadable', 'rejected', 'accepted', 'duplicate', 'too_large', 'accepted'],
    );
  });

  test('records accepted now are remembered by record id or content key, with the id of their event', () => {
    assert.deepEqual(acceptedRecordIds(decisions.map((d) => settle(d, deliveries))), [
      { recordId: 'r-2', eventId: 'e-2' },
      { recordId: contentRecordKey('customers', { id: 'c-5', at: AT, plan: 'basic' }), eventId: 'e-5' },
    ]);
  });

  test('the answer has every record in request order, with counts', () => {
    const answer = batchAnswer(
      dataset,
      decisions.map((d) => settle(d, deliveries)),
    );
    assert.deepEqual(answer, {
      dataset: 'customers',
      datasetVersion: 2,
      accepted: 3,
      rejected: 3,
      duplicates: 1,
      results: [
        {
          index: 0,
          line: 1,
          status: 'rejected',
          errors: [{ kind: 'malformed_json', path: '', message: 'line 1 is not valid JSON' }],
        },
        {
          index: 1,
          recordId: 'r-1',
          entityId: 'c-1',
          status: 'rejected',
          eventId: 'e-1',
          errors: [{ kind: 'missing_field', path: '/plan', message: 'is required' }],
        },
        { index: 2, recordId: 'r-2', entityId: 'c-2', status: 'accepted', eventId: 'e-2' },
        { index: 3, recordId: 'r-old', entityId: 'c-3', status: 'accepted', duplicate: true },
        {
          index: 4,
          recordId: 'r-4',
          entityId: 'c-4',
          status: 'rejected',
          errors: [{ kind: 'too_large', path: '', message: 'event is 2000000 bytes' }],
        },
        { index: 5, entityId: 'c-5', status: 'accepted', eventId: 'e-5' },
      ],
    });
  });

  test('a record result carries no keyword of the validator, only kind, path and message', () => {
    const rejected = settle(decisions[1]!, deliveries);
    assert.deepEqual(Object.keys(recordResult(rejected).errors![0]!), ['kind', 'path', 'message']);
  });
});

describe('checking a record event', () => {
  const input = {
    dataset: 'customers',
    entityId: 'c-1',
    record: { id: 'c-1', at: AT, plan: 'basic' },
    eventId: 'ev-1',
  };

  test('an unregistered dataset or version gives one unknown_dataset error naming the event to replay', () => {
    const unknown = checkRecordEvent(undefined, { ...input, datasetVersion: 7 }, () => []);
    assert.deepEqual(unknown, {
      kind: 'unknown_dataset',
      entityId: 'c-1',
      errors: [
        {
          kind: 'unknown_dataset',
          path: '',
          keyword: 'dataset',
          message:
            'dataset "customers" has no version 7; the record is withheld because its sensitive fields are unknown (replay event ev-1 once registered)',
        },
      ],
    });
  });

  test('a registered dataset checks the record against the entity id the event claims', () => {
    const checked = checkRecordEvent(dataset, { ...input, entityId: 'c-2' }, (_version, record) => issuesOf(record));
    assert.ok(checked.kind === 'checked' && !checked.verdict.ok);
    assert.deepEqual(
      checked.verdict.errors.map((e) => e.kind),
      ['entity_key_mismatch'],
    );
    const valid = checkRecordEvent(dataset, input, (_version, record) => issuesOf(record));
    assert.ok(valid.kind === 'checked' && valid.verdict.ok && valid.verdict.eventTime === '2025-11-20T08:00:00.000Z');
  });
});
