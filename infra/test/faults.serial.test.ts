// Faults of a dependency while records stream through ingestion's HTTP API -> mlops.data.validated.v1 -> the
// feature store's materialization: a Postgres stop of 15 s, and a Kafka broker stop of 10 s. Afterwards every
// record is materialized exactly once, counted three ways (materialized events per record, the online count
// aggregate per entity, offline rows per record), and no dead letter was written. Serial: it stops the shared
// stack's Postgres and broker (infra/stack.sh pause-postgres / pause-kafka), so `npm test` runs it alone.
import 'reflect-metadata';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@mlops/config';
import { EventTypes, TOPIC_SPECS } from '@mlops/contracts';
import { FeatureStoreConfigSpec, createFeatureStoreApp } from '@mlops/feature-store';
import { IngestionConfigSpec, createIngestionApp } from '@mlops/ingestion';
import { startGroupAtEnd } from '@mlops/messaging';
import { CLICKHOUSE, type ClickHouseClient } from '@mlops/storage';
import {
  TEST_ADMIN_TOKEN,
  authorized,
  endLeftoverSockets,
  eventually,
  header,
  kafkaTestEnv,
  readTopicAs,
  requireEnv,
  testKafka,
} from '@mlops/testing';

const root = path.resolve(__dirname, '../../..');
const ENTITIES = 20;
const BATCHES = 30;
const BATCH = 20;
const RECORDS = BATCHES * BATCH;
/** One batch every this many ms: the stream lasts about BATCHES * PACE_MS, the fault sits inside it. */
const PACE_MS = 700;
/** Every wait is bounded: the whole pipeline must settle within this after the fault ended. */
const SETTLE_MS = 180_000;

interface Record {
  customer_id: string;
  event_time: string;
  spend: number;
}

/** `bash infra/stack.sh <args>` with the stack's ports of this environment; resolves to its exit code. */
function stack(args: string[]): { child: ChildProcess; done: Promise<number | null>; output: () => string } {
  const child = spawn('bash', [path.join(root, 'infra/stack.sh'), ...args], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, done, output: () => output };
}

/** The sum of the end offsets of every dead-letter topic. */
async function deadLetterCount(): Promise<number> {
  const kafka = testKafka('faults-dlq');
  const admin = kafka.admin();
  await admin.connect();
  try {
    let total = 0;
    for (const spec of TOPIC_SPECS.filter((t) => t.name.endsWith('.dlq'))) {
      for (const p of await admin.fetchTopicOffsets(spec.name)) total += Number(p.high);
    }
    return total;
  } finally {
    await admin.disconnect();
    await endLeftoverSockets(kafka);
  }
}

class Pipeline {
  readonly dataset: string;
  readonly view: string;
  private readonly dirs: string[] = [];
  private ingestion?: INestApplication;
  private featureStore?: INestApplication;
  ingestUrl = '';
  featuresUrl = '';

  constructor(readonly prefix: string) {
    const run = randomUUID().replace(/-/g, '').slice(0, 10);
    this.dataset = `${prefix}_ds_${run}`;
    this.view = `${prefix}_view_${run}`;
  }

  async start(): Promise<void> {
    const kafka = testKafka('faults-setup');
    const run = randomUUID().slice(0, 8);
    const ingestionGroup = `faults-ingestion-${run}`;
    const featureStoreGroup = `faults-feature-store-${run}`;
    await startGroupAtEnd(kafka, ingestionGroup, [EventTypes.DataRecordV1]);
    await startGroupAtEnd(kafka, featureStoreGroup, [
      EventTypes.DatasetRegisteredV1,
      EventTypes.DataValidatedV1,
      EventTypes.DatasetSnapshotRequestedV1,
    ]);
    await endLeftoverSockets(kafka);
    const common = {
      ...kafkaTestEnv(),
      DATABASE_URL: requireEnv('DATABASE_URL'),
      HTTP_PORT: '0',
      LOG_LEVEL: 'error',
      AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    };
    const clickhouseDir = mkdtempSync(path.join(tmpdir(), 'faults-chdb-'));
    const artifactDir = mkdtempSync(path.join(tmpdir(), 'faults-artifacts-'));
    this.dirs.push(clickhouseDir, artifactDir);
    this.ingestion = await createIngestionApp(
      loadConfig('ingestion', IngestionConfigSpec, {
        ...common,
        CONSUMER_GROUP: ingestionGroup,
        INGESTION_HASH_KEY: 'faults-hash-key-0123456789abcdef0123456789',
      }),
    );
    this.featureStore = await createFeatureStoreApp(
      loadConfig('feature-store', FeatureStoreConfigSpec, {
        ...common,
        CONSUMER_GROUP: featureStoreGroup,
        CLICKHOUSE_DATA_DIR: clickhouseDir,
        ARTIFACT_STORE_URL: pathToFileURL(artifactDir).href,
      }),
    );
    await this.ingestion.listen(0, '127.0.0.1');
    await this.featureStore.listen(0, '127.0.0.1');
    const url = (app: INestApplication) =>
      `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    this.ingestUrl = url(this.ingestion);
    this.featuresUrl = url(this.featureStore);

    const registered = await fetch(
      `${this.ingestUrl}/datasets/${this.dataset}`,
      authorized({
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          role: 'features',
          entityKeyField: 'customer_id',
          eventTimeField: 'event_time',
          recordSchema: {
            type: 'object',
            required: ['customer_id', 'event_time', 'spend'],
            additionalProperties: false,
            properties: {
              customer_id: { type: 'string' },
              event_time: { type: 'string', format: 'date-time' },
              spend: { type: 'number', minimum: 0 },
            },
          },
        }),
      }),
    );
    assert.equal(registered.status, 201, await registered.text());
    const definition = {
      name: this.view,
      source: { dataset: this.dataset },
      ttl: 'P7D',
      features: [
        { kind: 'field', name: 'spend', field: 'spend' },
        { kind: 'aggregate', name: 'orders_24h', field: 'spend', function: 'count', window: 'PT24H' },
      ],
    };
    // The feature store learns the dataset from its registered event: retry until it has.
    const created = await eventually(
      async () => {
        const res = await fetch(
          `${this.featuresUrl}/feature-views`,
          authorized({
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(definition),
          }),
        );
        const body = await res.text();
        if (res.status === 201) return JSON.parse(body) as { version: number };
        assert.equal(res.status, 404, body);
        return false;
      },
      'the feature view to be created',
      30_000,
    );
    // Stream only once the view serves (its backfill done): the fault, not the view's start, is under test.
    await eventually(
      async () => {
        const res = await fetch(`${this.featuresUrl}/feature-views/${this.view}`, authorized());
        const body = (await res.json()) as { servingVersion?: number };
        return res.status === 200 && body.servingVersion === created.version;
      },
      `${this.view} to serve`,
      60_000,
    );
  }

  /** The records of this run: ENTITIES entities, distinct event times within the last hour. */
  records(): Record[] {
    const start = Date.now() - 3_600_000;
    return Array.from({ length: RECORDS }, (_, i) => ({
      customer_id: `c-${i % ENTITIES}`,
      event_time: new Date(start + i * 1_000).toISOString(),
      spend: (i % 50) + 0.25,
    }));
  }

  /**
   * Sends the records in batches at a steady pace, as a client would: a batch answered 503 is sent again after
   * its Retry-After; any other status than 200/503 fails the test. Returns the statuses seen.
   */
  async stream(records: Record[], duringStream: (batch: number) => void): Promise<Map<number, number>> {
    const statuses = new Map<number, number>();
    const deadline = Date.now() + SETTLE_MS;
    for (let b = 0; b < BATCHES; b++) {
      duringStream(b);
      const batch = records.slice(b * BATCH, (b + 1) * BATCH);
      for (;;) {
        assert.ok(Date.now() < deadline, `batch ${b} not accepted within ${SETTLE_MS} ms`);
        let status: number;
        let retryAfter = 1;
        try {
          const res = await fetch(
            `${this.ingestUrl}/datasets/${this.dataset}/records`,
            authorized({
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(batch),
              signal: AbortSignal.timeout(30_000),
            }),
          );
          status = res.status;
          retryAfter = Number(res.headers.get('retry-after') ?? 1) || 1;
          const body = await res.text();
          assert.ok(status === 200 || status === 503, `batch ${b}: ${status} ${body.slice(0, 300)}`);
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          status = -1; // no answer in time: retried like a 503
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 200) break;
        await sleep(Math.min(retryAfter, 5) * 1000);
      }
      await sleep(PACE_MS);
    }
    return statuses;
  }

  /**
   * Materialized events of this view per record (entity + event time): the distinct event ids of each, and how
   * many messages carried them. A message again under the same id is a redelivery (at-least-once transport,
   * which every consumer's inbox absorbs); a second id for one record is a duplicate effect.
   */
  async materializedPerRecord(): Promise<{ ids: Map<string, Set<string>>; messages: number }> {
    const kafka = testKafka('faults-materialized');
    const seen = await readTopicAs(
      kafka,
      EventTypes.FeaturesMaterializedV1,
      (message) => ({
        id: header(message, 'ce_id') ?? '',
        ...(JSON.parse(message.value?.toString() ?? 'null') as {
          featureView?: { name?: string };
          entityId?: string;
          eventTime?: string;
        }),
      }),
      (data) => data.featureView?.name === this.view,
      (matched) => new Set(matched.map(keyOf)).size >= RECORDS,
      SETTLE_MS,
    );
    // A duplicate would come right behind: give it time to show before counting.
    await sleep(3_000);
    const ids = new Map<string, Set<string>>();
    for (const data of seen) ids.set(keyOf(data), (ids.get(keyOf(data)) ?? new Set()).add(data.id));
    await endLeftoverSockets(kafka);
    return { ids, messages: seen.length };
  }

  /** The online count aggregate of each entity. */
  async onlineCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let e = 0; e < ENTITIES; e++) {
      const res = await fetch(`${this.featuresUrl}/feature-views/${this.view}/entities/c-${e}`, authorized());
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const body = JSON.parse(text) as { features: { orders_24h: number } };
      counts.set(`c-${e}`, body.features.orders_24h);
    }
    return counts;
  }

  /**
   * Offline rows of the view: how many as every reader reads them (FINAL: copies of a redelivered event merged),
   * how many distinct source events, and how many copies are still stored unmerged (written twice, read once).
   */
  async offlineRows(): Promise<{ rows: number; events: number; stored: number }> {
    const clickhouse = this.featureStore!.get<ClickHouseClient>(CLICKHOUSE);
    const [row] = (await (
      await clickhouse.query({
        query: `SELECT (SELECT count() FROM feature_store.offline_feature_rows FINAL WHERE view_name = {view:String}) AS n,
                       (SELECT uniqExact(source_event_id) FROM feature_store.offline_feature_rows WHERE view_name = {view:String}) AS events,
                       (SELECT count() FROM feature_store.offline_feature_rows WHERE view_name = {view:String}) AS stored`,
        query_params: { view: this.view },
        format: 'JSONEachRow',
      })
    ).json()) as Array<{ n: string | number; events: string | number; stored: string | number }>;
    return { rows: Number(row?.n ?? 0), events: Number(row?.events ?? 0), stored: Number(row?.stored ?? 0) };
  }

  async close(): Promise<void> {
    await this.ingestion?.close();
    await this.featureStore?.close();
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

function keyOf(data: { entityId?: string | undefined; eventTime?: string | undefined }): string {
  return `${data.entityId}@${new Date(data.eventTime ?? 0).toISOString()}`;
}

interface FaultOutcome {
  /** Records with no materialized event. */
  missing: string[];
  /** Records materialized under more than one event id. */
  doubled: Array<[string, string[]]>;
  /** Entities whose online count aggregate is not their number of records. */
  wrongOnline: Array<[string, number]>;
  offline: { rows: number; events: number; stored: number };
  deadLetters: number;
}

/** Streams the records while `fault` runs from batch 5; then counts every effect. */
async function streamThroughFault(pipeline: Pipeline, fault: string[]): Promise<FaultOutcome> {
  const dlqBefore = await deadLetterCount();
  await pipeline.start();
  const records = pipeline.records();
  let injected: ReturnType<typeof stack> | undefined;
  const statuses = await pipeline.stream(records, (batch) => {
    if (batch === 5) injected = stack(fault);
  });
  assert.ok(injected, 'the fault was injected');
  assert.equal(await injected.done, 0, `stack.sh ${fault.join(' ')} failed:\n${injected.output()}`);

  const { ids, messages } = await pipeline.materializedPerRecord();
  const expected = records.map((r) => `${r.customer_id}@${new Date(r.event_time).toISOString()}`);
  const online = await pipeline.onlineCounts();
  const offline = await eventually(
    async () => {
      const o = await pipeline.offlineRows();
      return o.events >= RECORDS ? o : undefined;
    },
    'an offline row per record',
    60_000,
  );
  const outcome: FaultOutcome = {
    missing: expected.filter((k) => !ids.has(k)),
    doubled: [...ids].filter(([, set]) => set.size > 1).map(([key, set]) => [key, [...set]]),
    wrongOnline: [...online].filter(([, count]) => count !== RECORDS / ENTITIES),
    offline,
    deadLetters: (await deadLetterCount()) - dlqBefore,
  };
  // Measured: HTTP answers, redeliveries of the same event (the consumers' inbox absorbs them), and the rest.
  console.log(
    `[faults] ${fault.join(' ')}: ${RECORDS} records, HTTP statuses ${JSON.stringify([...statuses])}, ` +
      `${messages} materialized messages, ${ids.size} records materialized, ${outcome.doubled.length} under 2+ event ids, ` +
      `offline ${offline.rows} rows read / ${offline.events} events / ${offline.stored} stored (copies not merged yet), ${outcome.deadLetters} dead letters`,
  );
  return outcome;
}

/** No loss and no dead letter: what every fault test asserts. */
function assertNothingLost(outcome: FaultOutcome): void {
  assert.deepEqual(outcome.missing, [], 'records never materialized');
  assert.ok(outcome.offline.events >= RECORDS, `an offline row for every record (${outcome.offline.events})`);
  assert.equal(outcome.deadLetters, 0, 'no dead letter was written');
}

/** Exactly once: one event id per record, online counts exact. */
function assertNoDuplicate(outcome: FaultOutcome): void {
  assert.deepEqual(outcome.doubled, [], 'records materialized more than once (under different event ids)');
  assert.deepEqual(outcome.wrongOnline, [], 'online counts of the entities');
  assert.equal(outcome.offline.events, RECORDS, 'offline rows of exactly the records');
}

const outcomes = new Map<string, FaultOutcome>();
const outcomeOf = (fault: string): FaultOutcome => {
  const outcome = outcomes.get(fault);
  assert.ok(outcome, `the ${fault} fault test ran to its counts`);
  return outcome;
};
describe('faults while records stream into the feature store', { concurrency: false }, () => {
  // Whatever happened, leave the stack up for the next files.
  after(async () => {
    await stack(['up']).done;
  });

  // One pipeline at a time: chdb opens one data directory per process.
  test('a Postgres stop of 15 s: every record materialized exactly once, no dead letter', async () => {
    const pipeline = new Pipeline('fpg');
    try {
      const outcome = await streamThroughFault(pipeline, ['pause-postgres', '15']);
      outcomes.set('postgres', outcome);
      assertNothingLost(outcome);
      assertNoDuplicate(outcome);
    } finally {
      await pipeline.close();
    }
  });

  test('a Kafka broker stop of 10 s: every record materialized, no dead letter', async () => {
    const pipeline = new Pipeline('fkafka');
    try {
      const outcome = await streamThroughFault(pipeline, ['pause-kafka', '10']);
      outcomes.set('kafka', outcome);
      assertNothingLost(outcome);
    } finally {
      await pipeline.close();
    }
  });

  // A request answered 503 while the broker was down and retried: records carry content-derived ids, so one each.
  test('a Kafka broker stop of 10 s: no record materialized twice', () => {
    assertNoDuplicate(outcomeOf('kafka'));
  });

  for (const fault of ['postgres', 'kafka']) {
    // A commit that failed after the ClickHouse insert writes the row again on redelivery: read once all the same.
    test(`after the ${fault} fault, one offline row per record and only one`, () => {
      const { offline } = outcomeOf(fault);
      assert.equal(offline.events, RECORDS, 'an offline row for every record');
      assert.equal(offline.rows, RECORDS, `${offline.rows - RECORDS} offline rows read twice`);
    });
  }
});
