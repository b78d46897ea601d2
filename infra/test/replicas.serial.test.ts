// Two replicas of ingestion and of the deployer, each its own process with the service's Kafka user and Postgres
// role (stack.env), in the services' default consumer groups: the partitions of the topic they consume are split
// between the replicas, nothing is processed twice, and killing one replica mid-stream (kill -9) loses nothing.
// Serial: the services run in their default consumer groups (a third member would take events the test waits for).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { AssignerProtocol, type Kafka, type KafkaMessage } from 'kafkajs';
import { LocalArtifactStore } from '@mlops/artifacts';
import { EventTypes, type EventData, type EventType } from '@mlops/contracts';
import { encodeEvent, newEvent } from '@mlops/messaging';
import { type RawTable, exportOnnx, trainPipeline } from '@mlops/ml';
import { authorized, eventually, header, readTopic, testKafka, uid } from '@mlops/testing';
import { type ServiceProcess, startService, waitReady } from './stack-env';

const SOURCE = 'urn:mlops:replicas-test';
const RECORDS = 3_000;
const REQUESTS = 1_500;
const CHUNK = 100;

type Replica = ServiceProcess;

const running: Replica[] = [];

function start(service: string, name: string, port: number, env: Record<string, string> = {}): Replica {
  const replica = startService(service, port, env, name);
  running.push(replica);
  return replica;
}

/** Messages of `topic` the replica's consumer took, by outcome (processed, duplicate, ...), from its /metrics. */
async function consumed(replica: Replica, topic: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${replica.base}/metrics`)).text();
  const byOutcome: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('mlops_messages_consumed_total{') || !line.includes(`topic="${topic}"`)) continue;
    const outcome = /outcome="([^"]*)"/.exec(line)?.[1] ?? 'unknown';
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + Number(line.split(' ').pop());
  }
  return byOutcome;
}

/**
 * Kills the replica with SIGKILL after `delayMs`, while the stream goes on (it dies mid-batch, its last offsets
 * uncommitted); resolves to what it had consumed just before.
 */
async function kill9Later(replica: Replica, topic: string, delayMs: number): Promise<Record<string, number>> {
  await sleep(delayMs);
  const before = await consumed(replica, topic);
  replica.child.kill('SIGKILL');
  assert.equal(await replica.exited, 'SIGKILL', `${replica.name} was killed by SIGKILL`);
  return before;
}

async function call(base: string, method: string, route: string, body?: unknown): Promise<Response> {
  return fetch(
    `${base}${route}`,
    authorized({
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    }),
  );
}

/** Partitions of `topic` each member of the consumer group holds, by member id. */
async function assignments(kafka: Kafka, group: string, topic: string): Promise<number[][]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([group]);
    return (groups[0]?.members ?? []).map(
      (m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? [],
    );
  } finally {
    await admin.disconnect();
  }
}

/** Partition numbers of a topic. */
async function partitionsOf(kafka: Kafka, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).map((o) => o.partition).sort((a, b) => a - b);
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the group has `count` members, each holding partitions of the topic, and every partition is held once. */
async function splitBetween(kafka: Kafka, group: string, topic: string, count: number): Promise<number[][]> {
  const all = await partitionsOf(kafka, topic);
  const members = await eventually(
    async () => {
      const current = await assignments(kafka, group, topic);
      return current.length === count && current.every((p) => p.length > 0) ? current : undefined;
    },
    `the ${group} group to split ${topic} between ${count} member(s)`,
    90_000,
  );
  assert.deepEqual(
    members.flat().sort((a, b) => a - b),
    all,
    `every partition of ${topic} held by exactly one member: ${JSON.stringify(members)}`,
  );
  return members;
}

type Sent = ReturnType<typeof encodeEvent>;

/** Publishes the items as events; returns the encoded messages, so a test can send the very same events again. */
async function publish<T extends EventType>(kafka: Kafka, type: T, items: readonly EventData<T>[]): Promise<Sent[]> {
  const messages = items.map((data) => encodeEvent(newEvent(type, data, { source: SOURCE })));
  await send(kafka, type, messages);
  return messages;
}

async function send(kafka: Kafka, topic: string, messages: readonly Sent[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [...messages] });
  } finally {
    await producer.disconnect();
  }
}

/**
 * A forced redelivery: the same events (same CloudEvents ids, keys and partitions) a second time, as a producer retry
 * or an offset reset would deliver them. The consumers must recognise them in their inbox and do nothing.
 */
const REDELIVERED = 200;

const json = (message: KafkaMessage): Record<string, unknown> =>
  JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>;

/** Distinct CloudEvents ids per value of `field`: a redelivered event keeps its id, a doubled effect does not. */
function idsBy(
  messages: readonly KafkaMessage[],
  field: (value: Record<string, unknown>) => string,
): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  for (const m of messages) {
    const key = field(json(m));
    const set = ids.get(key) ?? new Set<string>();
    set.add(header(m, 'ce_id') ?? '');
    ids.set(key, set);
  }
  return ids;
}

after(async () => {
  for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
  await Promise.race([Promise.all(running.map((r) => r.exited)), sleep(20_000)]);
  for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
});

describe('two ingestion replicas and a feature store', { concurrency: 1 }, () => {
  const kafka = testKafka('replicas-ingestion-test');
  const dataset = uid('replicas')
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 60);
  const view = `${dataset}_view`.slice(0, 63);
  let ingestion: Replica[] = [];
  let featureStore: Replica;

  test('both ingestion replicas hold partitions of the record topic', { timeout: 120_000 }, async () => {
    ingestion = [start('ingestion', 'ingestion-a', 14_100), start('ingestion', 'ingestion-b', 14_101)];
    featureStore = start('feature-store', 'feature-store', 14_102, {
      CLICKHOUSE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'replicas-fs-ch-')),
    });
    await Promise.all([...ingestion, featureStore].map((r) => waitReady(r, 90_000)));
    const registered = await call(ingestion[0]!.base, 'PUT', `/datasets/${dataset}`, {
      role: 'features',
      recordSchema: {
        type: 'object',
        required: ['customer_id', 'event_time', 'tenure_days', 'plan'],
        additionalProperties: false,
        properties: {
          customer_id: { type: 'string' },
          event_time: { type: 'string', format: 'date-time' },
          tenure_days: { type: 'integer', minimum: 0 },
          monthly_spend: { type: ['number', 'null'], minimum: 0 },
          plan: { enum: ['basic', 'premium', 'enterprise'] },
        },
      },
      entityKeyField: 'customer_id',
      eventTimeField: 'event_time',
      description: 'records of the replicas test',
      owner: 'replicas-test',
    });
    assert.equal(registered.status, 201, await registered.text());
    for (const replica of ingestion)
      await eventually(
        async () => (await call(replica.base, 'GET', `/datasets/${dataset}`)).status === 200,
        `${replica.name} to know the dataset`,
      );
    await eventually(
      async () => {
        const res = await call(featureStore.base, 'POST', '/feature-views', {
          name: view,
          source: { dataset, entityKeyField: 'customer_id', eventTimeField: 'event_time' },
          ttl: '30d',
          features: [
            { kind: 'field', name: 'tenure_days', field: 'tenure_days', cast: 'number' },
            { kind: 'field', name: 'monthly_spend', field: 'monthly_spend' },
            {
              kind: 'categorical',
              encoding: 'one-hot',
              name: 'plan',
              field: 'plan',
              vocabulary: ['basic', 'premium', 'enterprise'],
            },
          ],
        });
        if (res.status === 201) return true;
        if (res.status === 404 || res.status === 503) return false;
        throw new Error(`feature view: ${res.status} ${await res.text()}`);
      },
      'the feature store to accept the view',
      60_000,
    );
    const members = await splitBetween(kafka, 'ingestion', EventTypes.DataRecordV1, 2);
    process.stdout.write(`# ingestion partitions by member: ${JSON.stringify(members)}\n`);
  });

  test(
    `${RECORDS} records, one replica killed with -9 mid-stream: each validated and materialized once`,
    { timeout: 150_000 },
    async () => {
      const record = (i: number) => {
        const entityId = `c-${i}`;
        return {
          dataset,
          entityId,
          recordId: `r-${i}`,
          record: {
            customer_id: entityId,
            event_time: new Date(Date.now() - 60_000).toISOString(),
            tenure_days: i,
            monthly_spend: i % 10 === 0 ? null : (i % 500) / 10,
            plan: ['basic', 'premium', 'enterprise'][i % 3] as string,
          },
        };
      };
      let killing: Promise<Record<string, number>> | undefined;
      const sent: Sent[] = [];
      for (let i = 0; i < RECORDS; i += CHUNK) {
        sent.push(
          ...(await publish(
            kafka,
            EventTypes.DataRecordV1,
            Array.from({ length: Math.min(CHUNK, RECORDS - i) }, (_, k) => record(i + k)),
          )),
        );
        // A third of the way in, the second replica dies without a chance to commit or say goodbye.
        if (i === CHUNK * 15) killing = kill9Later(ingestion[1]!, EventTypes.DataRecordV1, 1_000);
        await sleep(20);
      }
      const victimConsumed = await killing;
      const survivorBefore = await consumed(ingestion[0]!, EventTypes.DataRecordV1);
      await send(kafka, EventTypes.DataRecordV1, sent.slice(0, REDELIVERED));
      const ofDataset = (m: KafkaMessage): boolean => json(m).dataset === dataset;
      const recordIdOf = (v: Record<string, unknown>): string => String(v.recordId);
      await readTopic(
        kafka,
        EventTypes.DataValidatedV1,
        ofDataset,
        (matched) => new Set(matched.map((m) => recordIdOf(json(m)))).size >= RECORDS,
        120_000,
      );
      // Markers on every partition after the N records are validated: reading up to them sees any late copy.
      const markers = Array.from({ length: 12 }, (_, k) => record(RECORDS + k));
      await publish(kafka, EventTypes.DataRecordV1, markers);
      const markerIds = new Set(markers.map((m) => m.recordId));
      const validated = await readTopic(
        kafka,
        EventTypes.DataValidatedV1,
        ofDataset,
        // Every marker, and every record the read above saw validated: the reader's partitions advance apart, so
        // the markers alone can be read before another partition's records.
        (matched) => {
          const ids = new Set(matched.map((m) => recordIdOf(json(m))));
          return [...markerIds].every((id) => ids.has(id)) && ids.size >= RECORDS + markerIds.size;
        },
        60_000,
      );
      const byRecord = idsBy(
        validated.filter((m) => !markerIds.has(recordIdOf(json(m)))),
        recordIdOf,
      );
      assert.equal(byRecord.size, RECORDS, 'every record validated');
      const doubled = [...byRecord].filter(([, ids]) => ids.size !== 1);
      assert.deepEqual(doubled.slice(0, 5), [], `records validated as two events: ${doubled.length}`);
      const survivorAfter = await consumed(ingestion[0]!, EventTypes.DataRecordV1);
      process.stdout.write(
        `# validated: ${validated.length} messages, ${byRecord.size} records (+${markerIds.size} markers); ` +
          `record events consumed: killed replica ${JSON.stringify(victimConsumed)} (before the kill), survivor ` +
          `${JSON.stringify(survivorAfter)}\n`,
      );
      // The survivor now holds every partition, so it took each redelivered event and found it in its inbox.
      assert.ok(
        (survivorAfter.duplicate ?? 0) - (survivorBefore.duplicate ?? 0) >= REDELIVERED,
        `the survivor recognised the ${REDELIVERED} redelivered events: ${JSON.stringify({ survivorBefore, survivorAfter })}`,
      );

      // The feature store materialized each validated record once: one vector per entity, no doubled effect.
      const ofView = (m: KafkaMessage): boolean =>
        (json(m).featureView as { name?: string } | undefined)?.name === view;
      const expected = RECORDS + markerIds.size;
      const materialized = await readTopic(
        kafka,
        EventTypes.FeaturesMaterializedV1,
        ofView,
        (matched) => new Set(matched.map((m) => String(json(m).entityId))).size >= expected,
        90_000,
      );
      const bySource = idsBy(materialized, (v) => String(v.sourceEventId));
      assert.equal(bySource.size, expected, 'one materialization per validated event');
      assert.deepEqual(
        [...bySource].filter(([, ids]) => ids.size !== 1).slice(0, 5),
        [],
        'a validated event materialized twice',
      );
      process.stdout.write(`# materialized: ${materialized.length} messages, ${bySource.size} source events\n`);
      for (const i of [0, 1_234, RECORDS - 1]) {
        const res = await call(featureStore.base, 'GET', `/feature-views/${view}/entities/c-${i}`);
        assert.equal(res.status, 200, `online vector of c-${i}: ${await res.text()}`);
      }
      // The survivor took over the dead replica's partitions and keeps serving, alone in the group.
      await splitBetween(kafka, 'ingestion', EventTypes.DataRecordV1, 1);
      assert.equal((await call(ingestion[0]!.base, 'GET', `/datasets/${dataset}`)).status, 200);
    },
  );
});

describe('two deployer replicas', { concurrency: 1 }, () => {
  const kafka = testKafka('replicas-deployer-test');
  const model = uid('replicas')
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 60);
  let deployers: Replica[] = [];

  test(
    'both deployer replicas serve the promoted model and hold partitions of the request topic',
    { timeout: 120_000 },
    async () => {
      const artifactDir = mkdtempSync(path.join(tmpdir(), 'replicas-artifacts-'));
      const store = new LocalArtifactStore(artifactDir);
      const rows = 300;
      const tenure = Float64Array.from({ length: rows }, (_, i) => (i * 37) % 1000);
      const spend = Float64Array.from({ length: rows }, (_, i) => ((i * 53) % 2000) / 10);
      const plans = ['basic', 'premium', 'enterprise'];
      const table: RawTable = {
        rows,
        columns: [
          { name: 'tenure_days', kind: 'numeric', values: tenure },
          { name: 'monthly_spend', kind: 'numeric', values: spend },
          { name: 'plan', kind: 'categorical', values: Array.from({ length: rows }, (_, i) => plans[i % 3] ?? null) },
        ],
      };
      const labels = Float64Array.from(tenure, (t, i) => (t < 300 || plans[i % 3] === 'basic' ? 1 : 0));
      const { model: trained } = trainPipeline(table, labels, 'binary', 'logistic_regression', {}, 1);
      const exported = exportOnnx(trained, { modelName: model, producerVersion: 'test' });
      const stored = await store.put(exported.bytes, { mediaType: 'application/onnx', name: 'model.onnx' });
      const env = { ARTIFACT_STORE_URL: pathToFileURL(artifactDir).href, PREDICTION_LOG_FLUSH_MS: '50' };
      deployers = [
        start('deployer', 'deployer-a', 14_110, { ...env, INSTANCE_ID: 'replica-a' }),
        start('deployer', 'deployer-b', 14_111, { ...env, INSTANCE_ID: 'replica-b' }),
      ];
      await Promise.all(deployers.map((r) => waitReady(r, 90_000)));
      await publish(kafka, EventTypes.ModelPromotedV1, [
        {
          model,
          alias: 'production',
          version: 1,
          previousVersion: null,
          trigger: 'manual',
          reason: 'replicas test',
          gate: null,
          artifact: { uri: stored.uri, sha256: stored.sha256, format: 'onnx', sizeBytes: stored.sizeBytes },
          signature: {
            inputName: exported.signature.inputName,
            inputDtype: exported.signature.inputDtype,
            featureNames: [...exported.signature.featureNames],
            outputName: exported.signature.outputName,
          },
          featureView: { name: 'replicas_view', version: 1 },
          promotedBy: 'replicas-test',
          promotedAt: new Date().toISOString(),
        },
      ]);
      for (const replica of deployers)
        await eventually(
          async () => {
            const res = await call(replica.base, 'GET', '/models');
            const body = (await res.json()) as { models?: { model: string; version: number }[] };
            return body.models?.some((m) => m.model === model && m.version === 1) ?? false;
          },
          `${replica.name} to serve ${model} v1`,
          60_000,
        );
      const members = await splitBetween(kafka, 'deployer', EventTypes.PredictionRequestedV1, 2);
      process.stdout.write(`# deployer partitions by member: ${JSON.stringify(members)}\n`);
    },
  );

  test(
    `${REQUESTS} streamed requests, one replica killed with -9 mid-stream: each answered once, HTTP keeps answering`,
    { timeout: 150_000 },
    async () => {
      const run = uid('req');
      const request = (i: number) => ({
        requestId: `${run}-${i}`,
        model,
        alias: 'production',
        entityId: `e-${i}`,
        features: {
          tenure_days: (i * 7) % 1000,
          monthly_spend: (i % 300) / 2,
          plan: ['basic', 'premium', 'enterprise'][i % 3] as string,
        },
        requestedAt: new Date().toISOString(),
      });
      let killing: Promise<Record<string, number>> | undefined;
      const sent: Sent[] = [];
      for (let i = 0; i < REQUESTS; i += CHUNK) {
        sent.push(
          ...(await publish(
            kafka,
            EventTypes.PredictionRequestedV1,
            Array.from({ length: Math.min(CHUNK, REQUESTS - i) }, (_, k) => request(i + k)),
          )),
        );
        if (i === CHUNK * 8) killing = kill9Later(deployers[1]!, EventTypes.PredictionRequestedV1, 1_000);
        await sleep(20);
      }
      const victimConsumed = await killing;
      const survivorBefore = await consumed(deployers[0]!, EventTypes.PredictionRequestedV1);
      await send(kafka, EventTypes.PredictionRequestedV1, sent.slice(0, REDELIVERED));
      const ours = (m: KafkaMessage): boolean => String(json(m).requestId).startsWith(`${run}-`);
      const requestIdOf = (v: Record<string, unknown>): string => String(v.requestId);
      await readTopic(
        kafka,
        EventTypes.PredictionCompletedV1,
        ours,
        (matched) => new Set(matched.map((m) => requestIdOf(json(m)))).size >= REQUESTS,
        120_000,
      );
      const markers = Array.from({ length: 12 }, (_, k) => request(REQUESTS + k));
      await publish(kafka, EventTypes.PredictionRequestedV1, markers);
      const markerIds = new Set(markers.map((m) => m.requestId));
      const completed = await readTopic(
        kafka,
        EventTypes.PredictionCompletedV1,
        ours,
        // Every marker, and every request the read above saw answered: the reader's partitions advance apart, so the
        // markers alone can be read before another partition's answers.
        (matched) => {
          const ids = new Set(matched.map((m) => requestIdOf(json(m))));
          return [...markerIds].every((id) => ids.has(id)) && ids.size >= REQUESTS + markerIds.size;
        },
        60_000,
      );
      const answers = completed.filter((m) => !markerIds.has(requestIdOf(json(m))));
      const byRequest = idsBy(answers, requestIdOf);
      assert.equal(byRequest.size, REQUESTS, 'every request answered');
      const doubled = [...byRequest].filter(([, ids]) => ids.size !== 1);
      assert.deepEqual(doubled.slice(0, 5), [], `requests answered by two events: ${doubled.length}`);
      const failed = answers.filter((m) => (json(m).result as { status?: string }).status !== 'succeeded');
      assert.deepEqual(failed.slice(0, 3).map(json), [], 'every prediction succeeded');
      const survivorAfter = await consumed(deployers[0]!, EventTypes.PredictionRequestedV1);
      process.stdout.write(
        `# completed: ${completed.length} messages, ${byRequest.size} requests (+${markerIds.size} markers); ` +
          `requests consumed: killed replica ${JSON.stringify(victimConsumed)} (before the kill), survivor ` +
          `${JSON.stringify(survivorAfter)}\n`,
      );
      assert.ok(
        (survivorAfter.duplicate ?? 0) - (survivorBefore.duplicate ?? 0) >= REDELIVERED,
        `the survivor recognised the ${REDELIVERED} redelivered requests: ${JSON.stringify({ survivorBefore, survivorAfter })}`,
      );
      const res = await call(deployers[0]!.base, 'POST', `/models/${model}/predict`, {
        features: { tenure_days: 120, monthly_spend: 95.5, plan: 'basic' },
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal((JSON.parse(text) as { model?: string }).model, model);
      await splitBetween(kafka, 'deployer', EventTypes.PredictionRequestedV1, 1);
    },
  );
});
