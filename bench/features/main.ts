/**
 * Materialization: records/s from ingestion's HTTP API through validation, the validated topic, the
 * feature store's computation (windowed aggregates, state in Postgres, offline row in ClickHouse) to the
 * online vector on mlops.features.materialized.v1; and freshness, the time from a record's HTTP
 * acceptance to its materialized vector (p50/p99). Both services run in this process, each a Nest app.
 * Baseline in the same run: the validated events alone read back by a raw kafkajs consumer.
 * Bounded: BENCH_RECORDS (default 5000) per pass in HTTP batches of 100 (BENCH_CONCURRENCY requests in flight,
 * default 1), at most BENCH_TIMEOUT_S seconds.
 * Passes (BENCH_MODES, default "poll,wake", each with its own apps, dataset and view, one after the other in this
 * process): `poll` runs the outbox relays as before (a pass every 100 ms, no wake-up), `wake` as shipped (a pass
 * as soon as a transaction that wrote outbox rows commits). Each pass also counts the Postgres statements of both
 * services (pg client calls) per record, the Kafka requests of this process by client and API, the feature store's
 * inbox transactions (events and milliseconds each), and the CPU per record of this process, of its main thread (both
 * services' JavaScript), and of the local stack's broker and Postgres (from /proc; the machine's other load is not in
 * them, so they hold steadier than records/s).
 * BENCH_CPU_PROFILE=<dir> writes a V8 CPU profile of the measured window of each pass (`features-<mode>.cpuprofile`,
 * sampled every 0.5 ms; its overhead inflates that run's figures); `node bench/dist/features/profile-summary.js <file>`
 * sums it up (self time per owner, package and function).
 */
import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import type { INestApplication } from '@nestjs/common';
import { Kafka, logLevel } from 'kafkajs';
import { createTokenWithRoles } from '@mlops/auth';
import { kafkaKeys, kafkaSecurity, loadConfig } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';
import { FeatureStoreConfigSpec, createFeatureStoreApp } from '@mlops/feature-store';
import { IngestionConfigSpec, createIngestionApp } from '@mlops/ingestion';
import {
  EventConsumerRunner,
  EventProducer,
  MessagingMetrics,
  OutboxRelay,
  type OutboxRelayOptions,
  startGroupAtEnd,
} from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import type { DataSource } from 'typeorm';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 5_000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 180) * 1000;
const CONCURRENCY = Math.max(1, Number(process.env.BENCH_CONCURRENCY ?? 1));
const MODES = (process.env.BENCH_MODES ?? 'poll,wake').split(',').map((m) => m.trim()) as Mode[];
const BATCH = 100;
type Mode = 'poll' | 'wake';
/** The in-process services' admin token, this run only: the bench creates its role tokens with it, as a user would. */
const ADMIN_TOKEN = randomBytes(32).toString('base64url');

/** BENCH_CPU_PROFILE=<dir>: a V8 CPU profile of this process' main thread from the first send to the last vector. */
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;

async function startProfile(): Promise<Session | undefined> {
  if (!PROFILE_DIR) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session | undefined, mode: Mode): Promise<void> {
  if (!session || !PROFILE_DIR) return;
  const { profile } = await session.post('Profiler.stop');
  const file = path.join(PROFILE_DIR, `features-${mode}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  console.log(`cpu profile of the measured window: ${file}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Postgres statements sent by this process (both services), counted at the pg client. */
let statements = 0;
function countStatements(): void {
  const pg = createRequire(require.resolve('@mlops/storage'))('pg') as {
    Client: { prototype: { query: (...args: unknown[]) => unknown } };
  };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    statements++;
    return original.apply(this, args);
  };
}

/** Kafka requests sent by this process (services and bench consumers), per client and API, counted at kafkajs' connection. */
const kafkaRequests = new Map<string, number>();
function countKafkaRequests(): void {
  const connection = createRequire(require.resolve('kafkajs'))('./src/network/connection') as {
    prototype: { send: (this: { clientId: string }, args: { request: { apiName: string } }) => unknown };
  };
  const original = connection.prototype.send;
  connection.prototype.send = function (this: { clientId: string }, args: { request: { apiName: string } }) {
    const key = `${this.clientId} ${args.request.apiName}`;
    kafkaRequests.set(key, (kafkaRequests.get(key) ?? 0) + 1);
    return original.call(this, args);
  };
}

/** Events per inbox transaction of each consumer (a group, or one event on the one-by-one path). */
const transactionSizes = new Map<string, number[]>();
/** Milliseconds from the start of each group's inbox transaction to its commit, per consumer. */
const transactionMs = new Map<string, number[]>();
function recordTransactionSizes(): void {
  const runner = EventConsumerRunner.prototype as unknown as {
    runGroups: (
      this: { options: { consumerName: string } },
      requests: ReadonlyArray<{ group: unknown[] }>,
      topic: string,
    ) => unknown;
    runHandler: (this: { options: { consumerName: string } }, ...args: unknown[]) => unknown;
  };
  const sizes = (consumer: string): number[] => {
    let list = transactionSizes.get(consumer);
    if (!list) transactionSizes.set(consumer, (list = []));
    return list;
  };
  const durations = (consumer: string): number[] => {
    let list = transactionMs.get(consumer);
    if (!list) transactionMs.set(consumer, (list = []));
    return list;
  };
  const { runGroups, runHandler } = runner;
  runner.runGroups = function (requests, topic) {
    sizes(this.options.consumerName).push(requests.reduce((n, r) => n + r.group.length, 0));
    const started = performance.now();
    const transaction = runGroups.call(this, requests, topic) as Promise<unknown>;
    const took = (): void => void durations(this.options.consumerName).push(performance.now() - started);
    transaction.then(took, took);
    return transaction;
  };
  runner.runHandler = function (...args) {
    sizes(this.options.consumerName).push(1);
    return runHandler.apply(this, args);
  };
}

/** Linux's USER_HZ: /proc reports CPU time in these. */
const TICKS_PER_SECOND = 100;
const STATE_DIR = process.env.MLOPS_STATE_DIR ?? '.data';

function ticksOf(statFile: string, withChildren = false): number {
  // Fields after the command (which may hold spaces): state is 3rd, utime 14th, stime 15th, cutime 16th, cstime 17th.
  const fields = readFileSync(statFile, 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  const at = (field: number) => Number(fields[field - 3]);
  return at(14) + at(15) + (withChildren ? at(16) + at(17) : 0);
}

/**
 * CPU milliseconds so far of the local stack's broker and Postgres (the postmaster, its live children, and the
 * children it reaped), and of this process' main thread; undefined where /proc or the stack's pid files do not tell.
 */
function stackCpuMs(): { broker?: number; postgres?: number; mainThread?: number } {
  const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;
  const read = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  const broker = read(() =>
    ms(ticksOf(`/proc/${readFileSync(path.join(STATE_DIR, 'kafka', 'kafka.pid'), 'utf8').trim()}/stat`)),
  );
  const postgres = read(() => {
    const postmaster = readFileSync(path.join(STATE_DIR, 'postgres', 'postmaster.pid'), 'utf8')
      .split('\n')[0]!
      .trim();
    let ticks = ticksOf(`/proc/${postmaster}/stat`, true);
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || !existsSync(`/proc/${pid}/stat`)) continue;
      const stat = read(() =>
        readFileSync(`/proc/${pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' '),
      );
      if (stat?.[1] === postmaster) ticks += read(() => ticksOf(`/proc/${pid}/stat`)) ?? 0;
    }
    return ms(ticks);
  });
  const mainThread = read(() => ms(ticksOf(`/proc/self/task/${process.pid}/stat`)));
  return {
    ...(broker !== undefined ? { broker } : {}),
    ...(postgres !== undefined ? { postgres } : {}),
    ...(mainThread !== undefined ? { mainThread } : {}),
  };
}

/** `poll`: the app's relay replaced by one that only polls every 100 ms, as the relay did before it woke on commits. */
function pollingRelayOf(app: INestApplication): OutboxRelay {
  const shipped = app.get(OutboxRelay);
  const schema = (shipped as unknown as { options: OutboxRelayOptions }).options.schema;
  return new OutboxRelay({
    dataSource: app.get<DataSource>(POSTGRES),
    schema,
    producer: app.get(EventProducer),
    metrics: app.get(MessagingMetrics),
    wakeOnCommit: false,
    pollIntervalMs: 100,
  });
}

interface Figures {
  mode: Mode;
  materialized: number;
  endToEnd: number;
  materialization: number;
  p50: number;
  p99: number;
  floorP50: number;
  floorP99: number;
  /** Validated topic -> online vector, per record. */
  storeP50: number;
  storeP99: number;
  statementsPerRecord: number;
  /** CPU time of this process (both services, the bench's consumers, the embedded ClickHouse) per record. */
  cpuMsPerRecord: number;
  /** The part of it on the main thread (where both services' JavaScript runs). */
  mainThreadMsPerRecord: number;
  /** CPU time of the local stack's Kafka broker and Postgres per record (NaN when not on this machine). */
  brokerMsPerRecord: number;
  postgresMsPerRecord: number;
}

async function main(): Promise<void> {
  countStatements();
  countKafkaRequests();
  recordTransactionSizes();
  const results: Figures[] = [];
  for (const mode of MODES) {
    if (mode !== 'poll' && mode !== 'wake') throw new Error(`BENCH_MODES: unknown mode ${mode}`);
    results.push(await pass(mode));
  }
  console.log(
    `\nbench/features summary (${RECORDS} records per pass, ${CONCURRENCY} request(s) in flight, load average ${(
      await import('node:os')
    )
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  console.log(
    'mode  materialized  end-to-end/s  materialization/s  fresh p50  fresh p99  validated p50  store p50  pg stmts/record  cpu ms/record  main thread  broker  postgres',
  );
  for (const r of results)
    console.log(
      `${r.mode.padEnd(5)} ${String(r.materialized).padStart(12)} ${r.endToEnd.toFixed(0).padStart(13)} ${r.materialization
        .toFixed(0)
        .padStart(
          18,
        )} ${`${r.p50.toFixed(0)} ms`.padStart(10)} ${`${r.p99.toFixed(0)} ms`.padStart(10)} ${`${r.floorP50.toFixed(0)} ms`.padStart(14)} ${`${r.storeP50.toFixed(0)} ms`.padStart(10)} ${r.statementsPerRecord
        .toFixed(2)
        .padStart(
          16,
        )} ${r.cpuMsPerRecord.toFixed(2).padStart(14)} ${r.mainThreadMsPerRecord.toFixed(2).padStart(12)} ${r.brokerMsPerRecord.toFixed(2).padStart(7)} ${r.postgresMsPerRecord.toFixed(2).padStart(9)}`,
    );
  if (results.some((r) => r.materialized < RECORDS)) process.exitCode = 1;
}

async function pass(mode: Mode): Promise<Figures> {
  const run = randomUUID().slice(0, 8);
  const dataset = `bench_feat_${run}`;
  const view = `bench_view_${run}`;
  const env = { ...process.env, HTTP_PORT: '0', LOG_LEVEL: 'warn' as const, AUTH_ADMIN_TOKEN: ADMIN_TOKEN };
  // Fresh groups positioned at the end of their topics: only this run's events are processed and timed.
  const connection = loadConfig('bench-features', kafkaKeys);
  const kafka = new Kafka({
    clientId: 'bench-features',
    brokers: connection.KAFKA_BROKERS,
    ...kafkaSecurity(connection, 'bench-features'),
    logLevel: logLevel.ERROR,
  });
  await startGroupAtEnd(kafka, `bench-ingestion-${run}`, [EventTypes.DataRecordV1]);
  await startGroupAtEnd(kafka, `bench-feature-store-${run}`, [
    EventTypes.DatasetRegisteredV1,
    EventTypes.DataValidatedV1,
    EventTypes.DatasetSnapshotRequestedV1,
  ]);
  await startGroupAtEnd(kafka, `bench-features-${run}`, [EventTypes.FeaturesMaterializedV1]);
  await startGroupAtEnd(kafka, `bench-features-baseline-${run}`, [EventTypes.DataValidatedV1]);
  const ingestion = await createIngestionApp(
    loadConfig('ingestion', IngestionConfigSpec, { ...env, CONSUMER_GROUP: `bench-ingestion-${run}` }),
  );
  const featureStore = await createFeatureStoreApp(
    loadConfig('feature-store', FeatureStoreConfigSpec, {
      ...env,
      CONSUMER_GROUP: `bench-feature-store-${run}`,
      CLICKHOUSE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'bench-features-')),
    }),
  );
  await ingestion.listen(0, '127.0.0.1');
  await featureStore.listen(0, '127.0.0.1');
  const replaced = mode === 'poll' ? [ingestion, featureStore] : [];
  const pollingRelays = replaced.map((app) => {
    const polling = pollingRelayOf(app);
    return { app, polling };
  });
  for (const { app, polling } of pollingRelays) {
    await app.get(OutboxRelay).stop();
    polling.start();
  }
  const url = (app: typeof ingestion) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const [ingest, features] = [url(ingestion), url(featureStore)];
  const consumer = kafka.consumer({ groupId: `bench-features-${run}` });
  const baseline = kafka.consumer({ groupId: `bench-features-baseline-${run}` });
  try {
    // Each app keeps its own copy of the tokens; these are made where they are used, so none waits for the event.
    const steward = await createTokenWithRoles(ingest, ADMIN_TOKEN, 'data-steward', `bench-steward-${run}`);
    const viewSteward = await createTokenWithRoles(features, ADMIN_TOKEN, 'data-steward', `bench-view-${run}`);
    const producerToken = await createTokenWithRoles(ingest, ADMIN_TOKEN, 'producer', `bench-producer-${run}`);
    const registered = await fetch(`${ingest}/datasets/${dataset}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${steward}` },
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
    });
    if (registered.status !== 201)
      throw new Error(`dataset registration: ${registered.status} ${await registered.text()}`);
    const definition = {
      name: view,
      source: { dataset },
      ttl: 'P7D',
      features: [
        { kind: 'field', name: 'spend', field: 'spend' },
        { kind: 'log', name: 'log_spend', field: 'spend' },
        { kind: 'aggregate', name: 'spend_sum_1h', field: 'spend', function: 'sum', window: 'PT1H' },
        { kind: 'aggregate', name: 'orders_24h', field: 'spend', function: 'count', window: 'PT24H' },
      ],
    };
    // The feature store learns the dataset from its registered event: retry until it has.
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${features}/feature-views`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${viewSteward}` },
        body: JSON.stringify(definition),
      });
      if (res.status === 201) break;
      if (res.status !== 404 || attempt > 100) throw new Error(`feature view: ${res.status} ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const acceptedAt = new Map<string, number>();
    const acceptedTimes = new Map<string, number>();
    const freshness: number[] = [];
    const vectorSeen = new Map<string, number>();
    let lastVectorAt = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: EventTypes.FeaturesMaterializedV1, fromBeginning: true });
    // The bench's groups are thrown away: committing their offsets (kafkajs does after every batch) would only load the broker.
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const data = JSON.parse(message.value?.toString() ?? '{}') as {
          featureView?: { name: string };
          entityId?: string;
          eventTime?: string;
        };
        if (data.featureView?.name !== view) return;
        const key = `${data.entityId}@${new Date(data.eventTime ?? 0).toISOString()}`;
        const accepted = acceptedAt.get(key);
        if (accepted !== undefined && acceptedAt.delete(key)) {
          freshness.push(performance.now() - accepted);
          lastVectorAt = performance.now();
          vectorSeen.set(key, lastVectorAt);
        }
      },
    });
    // Baseline: the same records' validated events reaching a raw kafkajs consumer (the transport floor).
    const validatedSeen = new Map<string, number>();
    const transport: number[] = [];
    /** Per record: from its validated event on the topic to its vector (the feature store's part, relay included). */
    const featureStoreShare: number[] = [];
    await baseline.connect();
    await baseline.subscribe({ topic: EventTypes.DataValidatedV1, fromBeginning: true });
    await baseline.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (!message.key?.toString().startsWith(`${dataset}/`)) return;
        const data = JSON.parse(message.value?.toString() ?? '{}') as { entityId?: string; eventTime?: string };
        const key = `${data.entityId}@${new Date(data.eventTime ?? 0).toISOString()}`;
        validatedSeen.set(key, performance.now());
      },
    });

    const start = Date.UTC(2025, 10, 20);
    const records = Array.from({ length: RECORDS }, (_, i) => ({
      customer_id: `c-${i % 500}`,
      event_time: new Date(start + i * 1_000).toISOString(),
      spend: (i % 50) + 0.25,
    }));
    const profiling = await startProfile();
    const started = performance.now();
    const statementsBefore = statements;
    const requestsBefore = new Map(kafkaRequests);
    transactionSizes.clear();
    transactionMs.clear();
    const stackBefore = stackCpuMs();
    const cpuBefore = process.cpuUsage();
    let nextBatch = 0;
    const sender = async (): Promise<void> => {
      for (let b = nextBatch; b < RECORDS; b = nextBatch) {
        nextBatch += BATCH;
        await send(records.slice(b, b + BATCH));
      }
    };
    const send = async (batch: typeof records): Promise<void> => {
      // Freshness counts from the moment the batch is sent: a vector may appear before the answer does.
      const sentAt = performance.now();
      for (const r of batch) {
        const key = `${r.customer_id}@${new Date(r.event_time).toISOString()}`;
        acceptedAt.set(key, sentAt);
        acceptedTimes.set(key, sentAt);
      }
      const res = await fetch(`${ingest}/datasets/${dataset}/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${producerToken}` },
        body: JSON.stringify(batch),
      });
      if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, sender));
    const deadline = Date.now() + TIMEOUT_MS;
    while (freshness.length < RECORDS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - started) / 1000;
    const statementsPerRecord = (statements - statementsBefore) / RECORDS;
    const cpu = process.cpuUsage(cpuBefore);
    const stackAfter = stackCpuMs();
    const perRecord = (key: 'broker' | 'postgres' | 'mainThread'): number => {
      const [before, after] = [stackBefore[key], stackAfter[key]];
      return before !== undefined && after !== undefined ? (after - before) / RECORDS : NaN;
    };
    await stopProfile(profiling, mode);
    const cpuMsPerRecord = (cpu.user + cpu.system) / 1000 / RECORDS;
    for (const r of records) {
      const key = `${r.customer_id}@${new Date(r.event_time).toISOString()}`;
      const seen = validatedSeen.get(key);
      const accepted = acceptedTimes.get(key);
      if (seen !== undefined && accepted !== undefined) transport.push(Math.max(0, seen - accepted));
      const vector = vectorSeen.get(key);
      if (seen !== undefined && vector !== undefined) featureStoreShare.push(Math.max(0, vector - seen));
    }
    const inFeatureStore = [...featureStoreShare].sort((a, b) => a - b);
    const sorted = [...freshness].sort((a, b) => a - b);
    const floor = [...transport].sort((a, b) => a - b);
    // Materialization alone: from the first validated record on the topic to the last vector.
    const firstValidated = Math.min(...validatedSeen.values());
    const figures: Figures = {
      mode,
      materialized: freshness.length,
      endToEnd: freshness.length / seconds,
      materialization:
        freshness.length > 0 && Number.isFinite(firstValidated)
          ? freshness.length / ((lastVectorAt - firstValidated) / 1000)
          : 0,
      p50: sorted.length > 0 ? percentile(sorted, 50) : NaN,
      p99: sorted.length > 0 ? percentile(sorted, 99) : NaN,
      floorP50: floor.length > 0 ? percentile(floor, 50) : NaN,
      floorP99: floor.length > 0 ? percentile(floor, 99) : NaN,
      storeP50: inFeatureStore.length > 0 ? percentile(inFeatureStore, 50) : NaN,
      storeP99: inFeatureStore.length > 0 ? percentile(inFeatureStore, 99) : NaN,
      statementsPerRecord,
      cpuMsPerRecord,
      mainThreadMsPerRecord: perRecord('mainThread'),
      brokerMsPerRecord: perRecord('broker'),
      postgresMsPerRecord: perRecord('postgres'),
    };
    console.log(
      `bench/features [${mode}]: ${RECORDS} records over 500 entities, 4 features (2 windowed aggregates), ${CONCURRENCY} request(s) in flight`,
    );
    console.log(
      `materialized            ${figures.materialized} of ${RECORDS} (${figures.endToEnd.toFixed(0)} records/s end to end)`,
    );
    console.log(
      `materialization         ${figures.materialization.toFixed(0)} records/s (first validated record -> last vector)`,
    );
    console.log(`freshness send->online vector   p50 ${figures.p50.toFixed(0)} ms   p99 ${figures.p99.toFixed(0)} ms`);
    console.log(
      `baseline send->validated topic  p50 ${figures.floorP50.toFixed(0)} ms   p99 ${figures.floorP99.toFixed(0)} ms (raw consumer)`,
    );
    console.log(
      `validated topic->online vector  p50 ${figures.storeP50.toFixed(0)} ms   p99 ${figures.storeP99.toFixed(0)} ms (the feature store's part)`,
    );
    console.log(`ratio p50 online/validated        ${(figures.p50 / Math.max(1, figures.floorP50)).toFixed(2)}`);
    console.log(`postgres statements    ${statementsPerRecord.toFixed(2)} per record (both services, pg client calls)`);
    console.log(`cpu of this process    ${cpuMsPerRecord.toFixed(2)} ms per record (both services and the bench)`);
    console.log(
      `cpu per record         main thread ${figures.mainThreadMsPerRecord.toFixed(2)} ms, broker ${figures.brokerMsPerRecord.toFixed(2)} ms, postgres ${figures.postgresMsPerRecord.toFixed(2)} ms (the local stack's processes, from /proc)`,
    );
    const requests = [...kafkaRequests]
      .map(([key, n]) => [key, n - (requestsBefore.get(key) ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]);
    const totalRequests = requests.reduce((sum, [, n]) => sum + n, 0);
    console.log(
      `kafka requests         ${(totalRequests / RECORDS).toFixed(3)} per record: ${requests.map(([key, n]) => `${key} ${n}`).join(', ')}`,
    );
    for (const [consumer, sizes] of transactionSizes) {
      const ordered = [...sizes].sort((a, b) => a - b);
      const events = sizes.reduce((sum, n) => sum + n, 0);
      console.log(
        `inbox transactions     ${consumer}: ${sizes.length} for ${events} events (mean ${(events / sizes.length).toFixed(1)}, p10 ${percentile(ordered, 10)}, p50 ${percentile(ordered, 50)}, p90 ${percentile(ordered, 90)}, max ${ordered[ordered.length - 1]})`,
      );
      const took = [...(transactionMs.get(consumer) ?? [])].sort((a, b) => a - b);
      if (took.length > 0)
        console.log(
          `                       each took p50 ${percentile(took, 50).toFixed(0)} ms, p90 ${percentile(took, 90).toFixed(0)} ms, in all ${took.reduce((sum, ms) => sum + ms, 0).toFixed(0)} ms of the ${(seconds * 1000).toFixed(0)} ms window`,
        );
    }
    return figures;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await baseline.disconnect().catch(() => undefined);
    for (const { polling } of pollingRelays) await polling.stop();
    await ingestion.close();
    await featureStore.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
