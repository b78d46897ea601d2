import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KafkaMessage } from 'kafkajs';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import { PoisonMessageError, decodeMessage, encodeEvent, newEvent } from '../src';

const TYPE = EventTypes.ModelPromotedV1;
const limits = { maxEventBytes: 10_000 };

function asKafkaMessage(encoded: { key: string; value: Buffer; headers: Record<string, string> }): KafkaMessage {
  const headers = Object.fromEntries(Object.entries(encoded.headers).map(([k, v]) => [k, Buffer.from(v)]));
  return {
    key: Buffer.from(encoded.key),
    value: encoded.value,
    headers,
    timestamp: '0',
    offset: '0',
    attributes: 0,
  } as KafkaMessage;
}

function poisonReason(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof PoisonMessageError, `expected a PoisonMessageError, got ${String(error)}`);
    return error.reason;
  }
  assert.fail('expected the message to be refused');
}

test('binary mode: attributes in ce_* headers, data as JSON, and back', () => {
  const cause = newEvent(TYPE, exampleEventData(TYPE), { source: 'urn:mlops:registry', key: 'churn' });
  const event = newEvent(TYPE, exampleEventData(TYPE), {
    source: 'urn:mlops:registry',
    key: 'churn',
    subject: 'churn@production',
    causedBy: cause,
  });
  const encoded = encodeEvent(event);
  assert.equal(encoded.headers.ce_specversion, '1.0');
  assert.equal(encoded.headers.ce_type, TYPE);
  assert.equal(encoded.headers.ce_correlationid, cause.id);
  assert.equal(encoded.headers.ce_causationid, cause.id);
  assert.equal(encoded.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(encoded.value.toString()), exampleEventData(TYPE));
  assert.deepEqual(decodeMessage(TYPE, asKafkaMessage(encoded), limits), event);
});

test('every kind of message that can never succeed is classified', () => {
  const good = encodeEvent(newEvent(TYPE, exampleEventData(TYPE), { source: 's', key: 'k' }));
  const variant = (headers: Record<string, string | undefined>, value: Buffer = good.value) => {
    const h: Record<string, string> = { ...good.headers };
    for (const [k, v] of Object.entries(headers))
      if (v === undefined) delete h[k];
      else h[k] = v;
    return asKafkaMessage({ key: good.key, value, headers: h });
  };
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({}, Buffer.from('{not json')), limits)),
    'malformed-json',
  );
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({}, Buffer.from('{"a":1}')), limits)),
    'schema-violation',
  );
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({ ce_id: undefined }), limits)),
    'missing-attribute',
  );
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({ ce_specversion: '0.3' }), limits)),
    'unsupported-specversion',
  );
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({ ce_type: 'mlops.model.promoted.v2' }), limits)),
    'unknown-type',
  );
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({ ce_type: 'promoted' }), limits)),
    'unknown-type',
  );
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({ ce_type: EventTypes.ModelRegisteredV1 }), limits)),
    'type-topic-mismatch',
  );
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({ 'content-type': 'application/avro' }), limits)),
    'malformed-json',
  );
  assert.equal(
    poisonReason(() => decodeMessage(TYPE, variant({}), { maxEventBytes: 10 })),
    'oversized',
  );
});

test('a schema violation names every failing path', () => {
  const good = encodeEvent(newEvent(TYPE, exampleEventData(TYPE), { source: 's', key: 'k' }));
  const { alias: _dropped, ...rest } = JSON.parse(good.value.toString());
  const broken = { ...rest, version: 'seven', fieldFromTheFuture: true };
  try {
    decodeMessage(TYPE, asKafkaMessage({ ...good, value: Buffer.from(JSON.stringify(broken)) }), limits);
    assert.fail('expected a schema violation');
  } catch (error) {
    assert.ok(error instanceof PoisonMessageError);
    assert.equal(error.reason, 'schema-violation');
    assert.ok(error.issues.length >= 2, `expected every issue, got ${error.message}`);
    assert.match(error.message, /\/version/);
    assert.match(error.message, /\/alias is required/);
    assert.doesNotMatch(error.message, /fieldFromTheFuture/, 'a reader ignores properties it does not know yet');
  }
});
