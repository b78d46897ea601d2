import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { EventTypes, dlqTopicOf, exampleEventData } from '@mlops/contracts';
import {
  DependencyUnavailableError,
  EventConsumerRunner,
  type EventProducer,
  type MessagingMetrics,
  PermanentHandlerError,
  newEvent,
} from '../src';
import { dropSchema, effectsStore, eventually, header, newProducer, readTopic, testKafka, uid } from './support';

const REQUESTED = EventTypes.TrainingRequestedV1;

describe('a handler whose dependency is unavailable waits; it is never dead-lettered for it', () => {
  const kafka = testKafka('dependency-wait-it');
  const schema = uid('dep_wait').replace(/-/g, '_');
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

  test('far more unavailable tries than the retry bound: processed once, nothing in the DLQ', async () => {
    const subject = uid('dep-wait');
    const name = uid('dep-wait-consumer');
    const unavailableTries = 8;
    const calls = new Map<string, number>();
    runner = new EventConsumerRunner({
      kafka,
      consumerName: name,
      producer,
      metrics,
      inbox: { dataSource, schema },
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
      await ctx.manager!.query(`INSERT INTO "${schema}".effects (event_id, consumer) VALUES ($1, $2)`, [
        event.id,
        name,
      ]);
    });
    await runner.start();
    // Same key, so the marker is behind the waiting event on one partition: its dead letter comes after.
    await producer.publishMany([waiting, marker]);
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
    await eventually(async () => {
      const rows: Array<{ n: number }> = await dataSource.query(
        `SELECT count(*)::int AS n FROM "${schema}".effects WHERE consumer = $1`,
        [name],
      );
      return rows[0]?.n === 1;
    }, 'the waiting event to take effect once');
    assert.equal(calls.get(waiting.id), unavailableTries + 1);
  });
});
