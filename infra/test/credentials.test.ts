// The stack's credentials hold: Kafka refuses clients without SASL or with a wrong password, Postgres refuses a
// wrong password, and a service's role reaches its own schema only. Positive controls first in each group, so a
// refusal cannot come from an unreachable stack.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { eventually, kafkaBrokers, kafkaTestSecurity, requireEnv, uid } from '@mlops/testing';

const SERVICES = ['ingestion', 'feature-store', 'trainer', 'registry', 'deployer', 'monitor'] as const;
const SCHEMAS: Record<(typeof SERVICES)[number], string> = {
  ingestion: 'ingestion',
  'feature-store': 'feature_store',
  trainer: 'trainer',
  registry: 'registry',
  deployer: 'deployer',
  monitor: 'monitor',
};
const envPrefix = (service: string) => service.toUpperCase().replace(/-/g, '_');

/** Lists topics with one client and no retries; resolves to the error, or undefined when Kafka answered. */
async function kafkaRefusal(config: Omit<KafkaConfig, 'brokers' | 'clientId'>): Promise<Error | undefined> {
  const kafka = new Kafka({
    clientId: uid('credentials-test'),
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
    ...config,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Runs one query with a URL; resolves to the Postgres error code, or 'ok'. */
async function pgOutcome(url: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.href;
}

describe('Kafka (SASL/SCRAM)', () => {
  test('the provisioner and every service user authenticate', async () => {
    assert.equal(await kafkaRefusal(kafkaTestSecurity()), undefined, 'the tests user is accepted');
    for (const service of SERVICES) {
      const p = envPrefix(service);
      const refusal = await kafkaRefusal({
        sasl: {
          mechanism: 'scram-sha-512',
          username: requireEnv(`${p}_KAFKA_SASL_USERNAME`),
          password: requireEnv(`${p}_KAFKA_SASL_PASSWORD`),
        },
      });
      assert.equal(refusal, undefined, `${service}'s user is accepted`);
    }
  });

  test('a client without SASL is refused', async () => {
    const refusal = await kafkaRefusal({});
    assert.ok(refusal, 'an unauthenticated client cannot list topics');
  });

  test('a wrong password is refused with an authentication error', async () => {
    const refusal = await kafkaRefusal({
      sasl: { mechanism: 'scram-sha-512', username: requireEnv('KAFKA_SASL_USERNAME'), password: 'not-the-password' },
    });
    assert.ok(refusal, 'a wrong password cannot list topics');
    assert.equal(refusal.name, 'KafkaJSSASLAuthenticationError', refusal.message);
  });

  test('an unknown user is refused with an authentication error', async () => {
    const refusal = await kafkaRefusal({
      sasl: { mechanism: 'scram-sha-512', username: uid('nobody'), password: 'whatever' },
    });
    assert.equal(refusal?.name, 'KafkaJSSASLAuthenticationError', refusal?.message);
  });
});

describe(
  'Kafka ACLs (each service user: its own topics and groups, infra/kafka-acls.mjs)',
  { skip: process.env.KAFKA_ACLS !== 'on' },
  () => {
    /** The trainer's own client. */
    const asTrainer = () =>
      new Kafka({
        clientId: uid('acl-test'),
        brokers: kafkaBrokers(),
        logLevel: logLevel.NOTHING,
        connectionTimeout: 3_000,
        requestTimeout: 5_000,
        // A group's coordinator may take a retry to be found the first time; refusals are not retried.
        retry: { retries: 5, initialRetryTime: 300 },
        sasl: {
          mechanism: 'scram-sha-512',
          username: requireEnv('TRAINER_KAFKA_SASL_USERNAME'),
          password: requireEnv('TRAINER_KAFKA_SASL_PASSWORD'),
        },
      });
    /** 'ok', or the broker's error type (kafkajs may wrap it in a retrier's error), else the error's name. */
    const outcome = (work: Promise<unknown>): Promise<string> =>
      work.then(
        () => 'ok',
        (error: Error) => {
          for (
            let e: unknown = error;
            e;
            e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause
          )
            if (typeof (e as { type?: unknown }).type === 'string') return (e as { type: string }).type;
          return error.name;
        },
      );

    test('a service user reads its own topic and is refused one it does not own, to read or to write', async () => {
      const kafka = asTrainer();
      const admin = kafka.admin();
      const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
      await admin.connect();
      await producer.connect();
      try {
        assert.equal(await outcome(admin.fetchTopicOffsets('mlops.training.requested.v1')), 'ok', 'its own topic');
        assert.equal(
          await outcome(admin.fetchTopicOffsets('mlops.data.validated.v1')),
          'TOPIC_AUTHORIZATION_FAILED',
          "ingestion's topic is not the trainer's to read",
        );
        assert.equal(
          await outcome(
            producer.send({ topic: 'mlops.data.validated.v1', messages: [{ value: "not the trainer's" }] }),
          ),
          'TOPIC_AUTHORIZATION_FAILED',
          'nor to write',
        );
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    });

    test("a service user is refused another service's consumer group", async () => {
      const admin = asTrainer().admin();
      await admin.connect();
      try {
        const offsetsOf = (groupId: string) => admin.fetchOffsets({ groupId, topics: ['mlops.training.requested.v1'] });
        // Its own group: ok, once the group coordinator (__consumer_offsets) exists on a freshly started broker
        // (NOT_COORDINATOR_FOR_GROUP until then).
        const own = await eventually(async () => {
          const result = await outcome(offsetsOf('trainer'));
          return result === 'NOT_COORDINATOR_FOR_GROUP' || result === 'KafkaJSGroupCoordinatorNotFound'
            ? undefined
            : result;
        }, 'the group coordinator');
        assert.equal(own, 'ok', 'its own group');
        // The broker denies DESCRIBE of the group on FindCoordinator (GROUP_AUTHORIZATION_FAILED, in its authorizer
        // log); kafkajs reports that as a coordinator it cannot find, which its own group (above) does find.
        assert.equal(await outcome(offsetsOf('ingestion')), 'KafkaJSGroupCoordinatorNotFound');
      } finally {
        await admin.disconnect();
      }
    });
  },
);

describe('Postgres (scram-sha-256, a role per service schema)', () => {
  test('each service role logs in, is no superuser, and creates and reads tables in its own schema', async () => {
    for (const service of SERVICES) {
      const url = requireEnv(`${envPrefix(service)}_DATABASE_URL`);
      const schema = SCHEMAS[service];
      const table = `${schema}."${uid('probe').replace(/-/g, '_')}"`;
      assert.equal(
        await pgOutcome(url, `CREATE TABLE ${table} (x int); SELECT * FROM ${table}; DROP TABLE ${table}`),
        'ok',
        `${service} works in ${schema}`,
      );
      assert.equal(
        await pgOutcome(
          url,
          `DO $$ BEGIN IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN RAISE EXCEPTION 'superuser'; END IF; END $$`,
        ),
        'ok',
        `${service}'s role is no superuser`,
      );
    }
  });

  test('a wrong password is refused', async () => {
    const admin = requireEnv('DATABASE_URL');
    assert.equal(await pgOutcome(admin, 'SELECT 1'), 'ok', 'the right password is accepted');
    assert.equal(await pgOutcome(withPassword(admin, 'not-the-password'), 'SELECT 1'), '28P01');
    const ingestion = requireEnv('INGESTION_DATABASE_URL');
    assert.equal(await pgOutcome(withPassword(ingestion, 'not-the-password'), 'SELECT 1'), '28P01');
  });

  test('no password at all is refused (no trust over TCP)', async () => {
    const url = new URL(requireEnv('DATABASE_URL'));
    url.password = '';
    const outcome = await pgOutcome(url.href, 'SELECT 1');
    assert.notEqual(outcome, 'ok');
  });

  test("a service role cannot read or write another service's schema, nor create a schema", async () => {
    const ingestion = requireEnv('INGESTION_DATABASE_URL');
    const featureStore = requireEnv('FEATURE_STORE_DATABASE_URL');
    const table = `feature_store."${uid('private').replace(/-/g, '_')}"`;
    assert.equal(await pgOutcome(featureStore, `CREATE TABLE ${table} (x int)`), 'ok');
    try {
      assert.equal(await pgOutcome(featureStore, `SELECT * FROM ${table}`), 'ok', 'the owner reads it');
      assert.equal(await pgOutcome(ingestion, `SELECT * FROM ${table}`), '42501', 'ingestion may not read it');
      assert.equal(await pgOutcome(ingestion, `INSERT INTO ${table} VALUES (1)`), '42501', 'nor write it');
      assert.equal(await pgOutcome(ingestion, `CREATE TABLE feature_store.intruder (x int)`), '42501');
      assert.equal(await pgOutcome(ingestion, `CREATE SCHEMA ${uid('rogue').replace(/-/g, '_')}`), '42501');
    } finally {
      await pgOutcome(featureStore, `DROP TABLE IF EXISTS ${table}`);
    }
  });
});
