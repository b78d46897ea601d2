import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudEvent as SdkEvent, Kafka as SdkKafka } from 'cloudevents';
import type { KafkaMessage } from 'kafkajs';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import { PoisonMessageError, decodeMessage, encodeEvent, encodeStructured, newEvent } from '../src';

const TYPE = EventTypes.TrainingRequestedV1;
const limits = { maxEventBytes: 100_000 };

/** What kafkajs hands a consumer for a message a producer sent with this key, value and headers. */
function received(key: string | Buffer | undefined, value: unknown, headers: Record<string, unknown>): KafkaMessage {
  const bytes = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  const sent: Record<string, Buffer> = {};
  for (const [name, header] of Object.entries(headers))
    if (header !== undefined) sent[name] = Buffer.from(String(header));
  return {
    key: key === undefined ? null : Buffer.isBuffer(key) ? key : Buffer.from(key),
    value: bytes,
    headers: sent,
    timestamp: '1764547200000',
    offset: '0',
    attributes: 0,
  } as KafkaMessage;
}

function sdkEvent(extra: Record<string, unknown> = {}): SdkEvent<unknown> {
  return new SdkEvent({
    type: TYPE,
    source: 'urn:upstream:crm',
    subject: 'churn',
    data: exampleEventData(TYPE),
    partitionkey: 'churn',
    ...extra,
  });
}

function poisonOf(run: () => unknown): PoisonMessageError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof PoisonMessageError, `expected a PoisonMessageError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the message to be refused');
}

describe('the official CloudEvents SDK (Kafka binding) as producer and as decoder', () => {
  test('structured mode from the SDK decodes to the same event', () => {
    const event = sdkEvent({ correlationid: 'flow-1' });
    const message = SdkKafka.structured(event);
    assert.match(String(message.headers['content-type']), /^application\/cloudevents\+json/);
    const decoded = decodeMessage(TYPE, received(message.key, message.value, message.headers), limits);
    assert.deepEqual(
      {
        id: decoded.id,
        source: decoded.source,
        type: decoded.type,
        subject: decoded.subject,
        time: decoded.time,
        key: decoded.partitionkey,
        correlationid: decoded.correlationid,
      },
      {
        id: event.id,
        source: 'urn:upstream:crm',
        type: TYPE,
        subject: 'churn',
        time: event.time,
        key: 'churn',
        correlationid: 'flow-1',
      },
    );
    assert.deepEqual(decoded.data, exampleEventData(TYPE));
  });

  test('binary mode from the SDK decodes to the same event', () => {
    const event = sdkEvent();
    const message = SdkKafka.binary(event);
    const decoded = decodeMessage(TYPE, received(message.key, message.value, message.headers), limits);
    assert.equal(decoded.id, event.id);
    assert.equal(decoded.source, 'urn:upstream:crm');
    assert.deepEqual(decoded.data, exampleEventData(TYPE));
  });

  test('structured mode without a Kafka key takes the partitionkey extension; data_base64 is read too', () => {
    const data = exampleEventData(TYPE);
    const envelope = {
      specversion: '1.0',
      id: 'e-1',
      source: 'urn:debezium',
      type: TYPE,
      partitionkey: 'churn',
      data_base64: Buffer.from(JSON.stringify(data)).toString('base64'),
    };
    const decoded = decodeMessage(
      TYPE,
      received(undefined, envelope, { 'content-type': 'application/cloudevents+json' }),
      limits,
    );
    assert.equal(decoded.partitionkey, 'churn');
    assert.deepEqual(decoded.data, data);
  });

  test('what we produce, the SDK decodes', () => {
    const ours = newEvent(TYPE, exampleEventData(TYPE), {
      source: 'urn:mlops:trainer',
      subject: 'churn',
      correlationId: 'flow-2',
    });
    const encoded = encodeEvent(ours);
    const value = encoded.value.toString('utf8');
    const decoded = SdkKafka.toEvent({ key: encoded.key, value, body: value, headers: encoded.headers } as Parameters<
      typeof SdkKafka.toEvent
    >[0]) as SdkEvent<unknown>;
    assert.equal(decoded.id, ours.id);
    assert.equal(decoded.type, TYPE);
    assert.equal(decoded.source, 'urn:mlops:trainer');
    assert.equal(decoded.subject, 'churn');
    assert.equal(decoded.correlationid, 'flow-2');
    assert.deepEqual(
      typeof decoded.data === 'string' ? JSON.parse(decoded.data) : decoded.data,
      exampleEventData(TYPE),
    );
  });

  test('what we produce in structured mode, the SDK and our decoder both read as the same event', () => {
    const cause = newEvent(TYPE, exampleEventData(TYPE), { source: 'urn:mlops:monitor', correlationId: 'flow-3' });
    const ours = newEvent(TYPE, exampleEventData(TYPE), {
      source: 'urn:mlops:trainer',
      subject: 'churn',
      causedBy: cause,
    });
    const encoded = encodeStructured(ours);
    assert.deepEqual(Object.keys(encoded.headers), ['content-type'], 'one header');
    const value = encoded.value.toString('utf8');
    const sdk = SdkKafka.toEvent({ key: encoded.key, value, body: value, headers: encoded.headers } as Parameters<
      typeof SdkKafka.toEvent
    >[0]) as SdkEvent<unknown>;
    assert.deepEqual(
      [sdk.id, sdk.type, sdk.source, sdk.subject, sdk.time, sdk.correlationid, sdk.causationid],
      [ours.id, TYPE, 'urn:mlops:trainer', 'churn', ours.time, 'flow-3', cause.id],
    );
    assert.deepEqual(sdk.data, exampleEventData(TYPE));
    // Our consumers decode it to the very event that was produced, as they do binary mode.
    const decoded = decodeMessage(TYPE, received(encoded.key, value, encoded.headers), limits);
    assert.deepEqual(decoded, ours);
    const binary = encodeEvent(ours);
    assert.deepEqual(
      decodeMessage(TYPE, received(binary.key, binary.value.toString('utf8'), binary.headers), limits),
      ours,
    );
  });

  test('structured messages that can never succeed are classified, each with its reason', () => {
    const structured = { 'content-type': 'application/cloudevents+json; charset=utf-8' };
    const good = JSON.parse(String(SdkKafka.structured(sdkEvent()).value)) as Record<string, unknown>;
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['a batch (array)', [good], 'malformed-json', /batches are not supported/],
      ['not JSON', '{"specversion":', 'malformed-json', /not JSON/],
      ['no id', { ...good, id: undefined }, 'missing-attribute', /"id"/],
      ['a non-string type', { ...good, type: 7 }, 'missing-attribute', /"type" must be a string|"type"/],
      ['an unknown type', { ...good, type: 'mlops.training.requested.v9' }, 'unknown-type', /major version 9/],
      [
        'a non-JSON datacontenttype',
        { ...good, datacontenttype: 'application/avro' },
        'malformed-json',
        /datacontenttype/,
      ],
      ['data that violates the schema', { ...good, data: { model: 42 } }, 'schema-violation', /does not match/],
    ];
    for (const [what, value, reason, message] of cases) {
      const error = poisonOf(() => decodeMessage(TYPE, received('k', value, structured), limits));
      assert.equal(error.reason, reason, what);
      assert.match(error.message, message, what);
    }
  });
});
