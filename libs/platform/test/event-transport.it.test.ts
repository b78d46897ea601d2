import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, type INestApplication, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import { EventTypes, dlqTopicOf, exampleEventData } from '@mlops/contracts';
import { type CloudEvent, CloudEventContext, EventProducer, PermanentHandlerError, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { authorized, eventually, header, readTopic, testKafka, uid } from '@mlops/testing';
import { PlatformModule, createServiceApp } from '../src';
import { dropSchema, probeConfig } from './support';

const TYPE = EventTypes.ModelPromotedV1;
const service = uid('nest-probe');
const schema = service.replace(/-/g, '_');
const subject = uid('nest');
const handled: string[] = [];

@Controller()
class PromotionsHandler {
  @EventPattern(TYPE)
  async onPromoted(@Payload() event: CloudEvent<typeof TYPE>, @Ctx() context: CloudEventContext): Promise<void> {
    if (event.subject !== subject) return;
    if (event.data.reason.startsWith('refuse me')) throw new PermanentHandlerError('alias is frozen');
    await context.manager.query(`INSERT INTO "${schema}".effects (event_id) VALUES ($1)`, [event.id]);
    handled.push(event.id);
  }
}

@Module({
  imports: [PlatformModule.forRoot({ service, pgSchema: schema, config: probeConfig() })],
  controllers: [PromotionsHandler],
})
class ProbeModule {}

let app: INestApplication;
let dataSource: DataSource;

before(async () => {
  app = await createServiceApp({ service, appModule: () => ({ module: ProbeModule }) }, probeConfig());
  dataSource = app.get<DataSource>(POSTGRES);
  await dataSource.query(`CREATE TABLE "${schema}".effects (event_id text NOT NULL)`);
  await app.listen(0, '127.0.0.1');
});

after(async () => {
  await app.close();
  await dropSchema(schema);
});

test('@EventPattern handlers get validated CloudEvents, write through the inbox transaction, and dead-letter permanent failures', async () => {
  const producer = app.get(EventProducer);
  const good = newEvent(TYPE, exampleEventData(TYPE), { source: 'urn:mlops:test', subject });
  const refused = newEvent(
    TYPE,
    { ...exampleEventData(TYPE), reason: 'refuse me' },
    { source: 'urn:mlops:test', subject },
  );
  // Same key (the model), so same partition: refused last, its dead letter ends the read after any duplicate.
  const marker = newEvent(
    TYPE,
    { ...exampleEventData(TYPE), reason: 'refuse me: marker' },
    { source: 'urn:mlops:test', subject },
  );
  await producer.publishMany([good, good, refused, marker]);
  await eventually(async () => handled.includes(good.id), 'the Nest handler');
  const letters = await readTopic(
    testKafka('nest-it'),
    dlqTopicOf(TYPE),
    (m) => header(m, 'dlq_consumer') === service,
    (m) => m.some((x) => header(x, 'ce_id') === marker.id),
  );
  assert.deepEqual(
    letters.map((m) => [header(m, 'ce_id'), header(m, 'dlq_reason'), header(m, 'dlq_attempts')]),
    [
      [refused.id, 'rejected-by-handler', '1'],
      [marker.id, 'rejected-by-handler', '1'],
    ],
  );
  assert.match(header(letters[0]!, 'dlq_error')!, /alias is frozen/);
  const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM "${schema}".effects`);
  assert.equal(n, 1, 'the event delivered twice had one effect');
});

test('HTTP errors keep Nest handling beside the event filter', async () => {
  const address = app.getHttpServer().address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${address.port}/no-such-route`, authorized());
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { statusCode: number }).statusCode, 404);
});
