import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventTypes, dlqTopicOf, exampleEventData } from '@mlops/contracts';
import { DependencyUnavailableError, PermanentHandlerError, newEvent } from '../src';
import { eventually, header, readTopic, runnerFixture, uid } from './support';

const REQUESTED = EventTypes.TrainingRequestedV1;

describe('a handler whose dependency is unavailable waits; it is never dead-lettered for it', () => {
  const fx = runnerFixture('dep-wait');
  const { kafka } = fx;

  test('far more unavailable tries than the retry bound: processed once, nothing in the DLQ', async () => {
    const subject = uid('dep-wait');
    const name = uid('dep-wait-consumer');
    const unavailableTries = 8;
    const calls = new Map<string, number>();
    const runner = fx.runner(name, {
      retry: { attempts: 2, initialDelayMs: 5, maxDelayMs: 20, unavailableMaxDelayMs: 40 },
    });
    const waiting = newEvent(REQUESTED, exampleEventData(REQUESTED), { source: 'urn:mlops:test', key: 'k', subject });
    const marker = newEvent(REQUESTED, exampleEventData(REQUESTED), { source: 'urn:mlops:test', key: 'k', subject });
    runner.on(REQUESTED, async (event, ctx) => {
      if (event.subject !== subject) return;
      const n = (calls.get(event.id) ?? 0) + 1;
      calls.set(event.id, n);
      if (event.id === marker.id) throw new PermanentHandlerError('the marker is dead-lettered on purpose');
      // Two shapes a real outage takes: a refused connection, and a store saying its server is away.
      if (n <= unavailableTries / 2)
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:55432'), { code: 'ECONNREFUSED' });
      if (n <= unavailableTries) throw new DependencyUnavailableError('clickhouse', 'ClickHouse does not answer');
      await fx.recordEffect(ctx.manager!, event.id, name);
    });
    await runner.start();
    // Same key, so the marker is behind the waiting event on one partition: its dead letter comes after.
    await fx.producer.publishMany([waiting, marker]);
    const letters = await readTopic(
      kafka,
      dlqTopicOf(REQUESTED),
      // The topic holds other tests' poison too, which this fresh group dead-letters: only this test's events count.
      (m) => header(m, 'dlq_consumer') === name && header(m, 'ce_subject') === subject,
      (seen) => seen.some((m) => header(m, 'ce_id') === marker.id),
    );
    assert.deepEqual(
      letters.map((m) => header(m, 'ce_id')),
      [marker.id],
      'only the marker is dead-lettered',
    );
    await eventually(async () => (await fx.effectsOf(name)).length === 1, 'the waiting event to take effect once');
    assert.equal(calls.get(waiting.id), unavailableTries + 1);
  });
});
