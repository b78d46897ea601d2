import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventTypes, dlqTopicOf, exampleEventData } from '@mlops/contracts';
import { PermanentHandlerError, encodeEvent, newEvent } from '../src';
import { header, readTopic, runnerFixture, uid } from './support';

const TOPIC = EventTypes.DeploymentFailedV1;

describe('dead letters are redacted per topic before they are written', () => {
  const fx = runnerFixture('dlq-redact');
  const { kafka } = fx;

  /** Runs a consumer whose handler refuses the event for good, and returns the dead letter of that event. */
  async function deadLetterWith(redact: (value: Buffer) => Buffer | Promise<Buffer>) {
    const subject = uid('redact');
    const runner = fx.runner(uid('redact-consumer'), { redactDeadLetter: { [TOPIC]: redact } });
    runner.on(TOPIC, async (event) => {
      if (event.subject === subject) throw new PermanentHandlerError('refused for good');
    });
    await runner.start();
    const event = newEvent(TOPIC, exampleEventData(TOPIC), { source: 'urn:mlops:test', subject });
    await fx.producer.publishMany([event]);
    const [letter] = await readTopic(
      kafka,
      dlqTopicOf(TOPIC),
      (m) => header(m, 'ce_id') === event.id,
      (matched) => matched.length > 0,
      60_000,
    );
    return { letter: letter!, original: encodeEvent(event).value };
  }

  test("the topic's redactor rewrites the value, and the letter says so", async () => {
    const { letter, original } = await deadLetterWith((value) =>
      Buffer.from(JSON.stringify({ redacted: value.length })),
    );
    assert.deepEqual(JSON.parse(letter.value!.toString()), { redacted: original.length });
    assert.equal(header(letter, 'dlq_redacted'), 'true');
    assert.equal(header(letter, 'dlq_reason'), 'rejected-by-handler');
  });

  test('a redactor that fails drops the value; the headers stay', async () => {
    const { letter } = await deadLetterWith(() => Promise.reject(new Error('cannot read the dataset')));
    assert.equal(letter.value, null);
    assert.equal(header(letter, 'dlq_redacted'), 'dropped');
  });
});
