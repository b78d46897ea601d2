import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { EventTypes, dlqTopicOf, exampleEventData } from '@mlops/contracts';
import {
  EventConsumerRunner,
  type EventProducer,
  type MessagingMetrics,
  PermanentHandlerError,
  listDeadLetterTopics,
  newEvent,
  redriveDeadLetters,
  showDeadLetters,
} from '../src';
import { dropSchema, effectsStore, eventually, newProducer, testKafka, uid } from './support';

// No other test writes to this topic's dead letters, so a redrive here moves only this file's letters.
const DEGRADED = EventTypes.ModelDegradedV1;

describe('dead letters are listed, shown and redriven after a fix', () => {
  const kafka = testKafka('dead-letters-it');
  const schema = uid('dlq_redrive').replace(/-/g, '_');
  let dataSource: DataSource;
  let producer: EventProducer;
  let metrics: MessagingMetrics;
  let runner: EventConsumerRunner | undefined;

  before(async () => {
    dataSource = await effectsStore(schema);
    ({ producer, metrics } = newProducer(kafka));
    await producer.connect();
  });

  after(async () => {
    await runner?.stop();
    await producer.disconnect();
    await dropSchema(dataSource, schema);
  });

  async function effects(consumer: string): Promise<string[]> {
    const rows: Array<{ event_id: string }> = await dataSource.query(
      `SELECT event_id FROM "${schema}".effects WHERE consumer = $1 ORDER BY event_id`,
      [consumer],
    );
    return rows.map((row) => row.event_id);
  }

  test('letters refused before a fix take effect exactly once after the redrive; a second redrive moves nothing', async () => {
    const subject = uid('redrive');
    const name = uid('redrive-consumer');
    let fixed = false;
    runner = new EventConsumerRunner({
      kafka,
      consumerName: name,
      producer,
      metrics,
      inbox: { dataSource, schema },
      retry: { attempts: 1, initialDelayMs: 5, maxDelayMs: 5 },
    });
    runner.on(DEGRADED, async (event, ctx) => {
      if (event.subject !== subject) return;
      if (!fixed) throw new PermanentHandlerError('the rollback policy is missing');
      await ctx.manager!.query(`INSERT INTO "${schema}".effects (event_id, consumer) VALUES ($1, $2)`, [
        event.id,
        name,
      ]);
    });
    await runner.start();
    const events = ['a', 'b', 'c'].map((key) =>
      newEvent(DEGRADED, exampleEventData(DEGRADED), { source: 'urn:mlops:test', key, subject }),
    );
    await producer.publishMany(events);

    const ids = events.map((event) => event.id).sort();
    let shown: Awaited<ReturnType<typeof showDeadLetters>> = [];
    await eventually(async () => {
      shown = (await showDeadLetters(kafka, DEGRADED, 1_000)).filter((letter) => letter.consumer === name);
      return shown.length === 3;
    }, 'three dead letters');
    assert.deepEqual(shown.map((letter) => letter.id).sort(), ids);
    assert.ok(
      shown.every(
        (letter) =>
          letter.reason === 'rejected-by-handler' &&
          letter.original.topic === DEGRADED &&
          letter.error.includes('rollback policy'),
      ),
    );
    const listed = (await listDeadLetterTopics(kafka)).find((summary) => summary.topic === dlqTopicOf(DEGRADED));
    assert.ok(listed && listed.pending >= 3, `the list counts them as pending: ${JSON.stringify(listed)}`);
    assert.deepEqual(await effects(name), [], 'nothing took effect before the fix');

    fixed = true;
    const first = await redriveDeadLetters(kafka, DEGRADED);
    assert.ok(first.redriven >= 3, `redriven ${first.redriven}`);
    await eventually(async () => (await effects(name)).length === 3, 'the redriven events to take effect');
    assert.deepEqual(await effects(name), ids);

    const second = await redriveDeadLetters(kafka, `${DEGRADED}.dlq`);
    assert.equal(second.redriven, 0, 'what was redriven is not moved again');
    assert.deepEqual(
      (await showDeadLetters(kafka, DEGRADED)).filter((letter) => letter.consumer === name),
      [],
    );
    const after = (await listDeadLetterTopics(kafka)).find((summary) => summary.topic === dlqTopicOf(DEGRADED));
    assert.equal(after?.pending, 0);
  });
});
