// An app built by the platform: every module hook runs exactly once, the event transport consumes only after
// the hooks ran, and what a service writes to its outbox in its own shutdown hook still leaves.
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type BeforeApplicationShutdown,
  Controller,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import { EventTypes, exampleEventData } from '@mlops/contracts';
import { type CloudEvent, CloudEventContext, encodeEvent, enqueueInOutbox, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { eventually, header, readTopic, testKafka, uid } from '@mlops/testing';
import { PlatformModule, createServiceApp } from '../src';
import { dropSchema, probeConfig } from './support';

const REQUESTED = EventTypes.TrainingRequestedV1;
const FAILED = EventTypes.TrainingFailedV1;
const service = uid('hooks-probe');
const schema = service.replace(/-/g, '_');
const subject = uid('hooks');
const request = newEvent(REQUESTED, exampleEventData(REQUESTED), {
  source: 'urn:mlops:test',
  key: uid('model'),
  subject,
});
const lastWord = newEvent(FAILED, exampleEventData(FAILED), { source: 'urn:mlops:test', key: uid('last'), subject });

type Hook =
  'onModuleInit' | 'onApplicationBootstrap' | 'onModuleDestroy' | 'beforeApplicationShutdown' | 'onApplicationShutdown';
const calls: Hook[] = [];
/** Hooks that had run when the first event reached a handler. */
let hooksBeforeFirstEvent: Hook[] | undefined;

@Injectable()
class HookCounter
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(@Inject(POSTGRES) private readonly dataSource: DataSource) {}
  onModuleInit(): void {
    calls.push('onModuleInit');
  }
  /** Slow on purpose: a transport consuming before the hooks ran would hand it the waiting request meanwhile. */
  async onApplicationBootstrap(): Promise<void> {
    await sleep(6_000);
    calls.push('onApplicationBootstrap');
  }
  onModuleDestroy(): void {
    calls.push('onModuleDestroy');
  }
  /** Like ingestion's last quality window: written to the outbox while the app shuts down. */
  async beforeApplicationShutdown(): Promise<void> {
    calls.push('beforeApplicationShutdown');
    await this.dataSource.transaction((manager) => enqueueInOutbox(manager, schema, lastWord));
  }
  onApplicationShutdown(): void {
    calls.push('onApplicationShutdown');
  }
}

@Controller()
class RequestsHandler {
  readonly replied: string[] = [];

  @EventPattern(REQUESTED)
  async onRequested(@Payload() event: CloudEvent<typeof REQUESTED>, @Ctx() context: CloudEventContext): Promise<void> {
    hooksBeforeFirstEvent ??= [...calls];
    if (event.subject !== subject) return;
    const reply = newEvent(FAILED, exampleEventData(FAILED), {
      source: 'urn:mlops:test',
      key: event.partitionkey,
      subject,
      causedBy: event,
    });
    await enqueueInOutbox(context.manager, schema, reply);
    this.replied.push(reply.id);
  }
}

@Module({
  imports: [PlatformModule.forRoot({ service, pgSchema: schema, config: probeConfig() })],
  controllers: [RequestsHandler],
  providers: [HookCounter],
})
class ProbeModule {}

const count = (hook: Hook) => calls.filter((c) => c === hook).length;
let app: INestApplication;

before(async () => {
  // Waiting on the topic before the app starts: its new consumer group reads it as soon as it joins.
  const producer = testKafka('hooks-it-request').producer();
  await producer.connect();
  await producer.send({ topic: REQUESTED, messages: [encodeEvent(request)] });
  await producer.disconnect();
  app = await createServiceApp({ service, appModule: () => ({ module: ProbeModule }) }, probeConfig());
  await app.listen(0, '127.0.0.1');
});

after(() => dropSchema(schema));

test('started and listening: onModuleInit and onApplicationBootstrap ran once each, before any event was handled', async () => {
  const handler = app.get(RequestsHandler);
  await eventually(async () => handler.replied.length === 1, 'the handler');
  assert.deepEqual([count('onModuleInit'), count('onApplicationBootstrap')], [1, 1]);
  assert.deepEqual(hooksBeforeFirstEvent, ['onModuleInit', 'onApplicationBootstrap']);
  // The platform's relay sends what a handler wrote to the outbox; no service starts one.
  const replies = await readTopic(
    testKafka('hooks-it'),
    FAILED,
    (m) => header(m, 'ce_subject') === subject,
    (m) => m.some((x) => header(x, 'ce_id') === handler.replied[0]),
  );
  assert.equal(replies.length, 1);
});

test('closed: each shutdown hook ran once, and the outbox row written in one was sent before Postgres closed', async () => {
  await app.close();
  assert.deepEqual(
    [
      count('onModuleInit'),
      count('onApplicationBootstrap'),
      count('onModuleDestroy'),
      count('beforeApplicationShutdown'),
      count('onApplicationShutdown'),
    ],
    [1, 1, 1, 1, 1],
  );
  const sent = await readTopic(
    testKafka('hooks-it-last'),
    FAILED,
    (m) => header(m, 'ce_subject') === subject,
    (m) => m.some((x) => header(x, 'ce_id') === lastWord.id),
    30_000,
  );
  assert.equal(sent.filter((m) => header(m, 'ce_id') === lastWord.id).length, 1);
});
