import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventTypes, dlqTopicOf, exampleEventData } from '@mlops/contracts';
import { PermanentHandlerError, listDeadLetterTopics, newEvent, redriveDeadLetters, showDeadLetters } from '../src';
import { eventually, runnerFixture, uid } from './support';

// No other test writes to this topic's dead letters, so a redrive here moves only this file's letters.
const DEGRADED = EventTypes.ModelDegradedV1;

describe('dead letters are listed, shown and redriven after a fix', () => {
  const fx = runnerFixture('dlq-redrive');
  const { kafka } = fx;
  const effects = (consumer: string) => fx.effectsOf(consumer);

  test('letters refused before a fix take effect exactly once after the redrive; a second redrive moves nothing', async () => {
    const subject = uid('redrive');
    const name = uid('redrive-consumer');
    let fixed = false;
    const runner = fx.runner(name, { retry: { attempts: 1, initialDelayMs: 5, maxDelayMs: 5 } });
    runner.on(DEGRADED, async (event, ctx) => {
      if (event.subject !== subject) return;
      if (!fixed) throw new PermanentHandlerError('the rollback policy is missing');
      await fx.recordEffect(ctx.manager!, event.id, name);
    });
    await runner.start();
    const events = ['a', 'b', 'c'].map((key) =>
      newEvent(DEGRADED, exampleEventData(DEGRADED), { source: 'urn:mlops:test', key, subject }),
    );
    await fx.producer.publishMany(events);

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
