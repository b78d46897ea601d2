#!/usr/bin/env node
// Creates every topic of the event catalog (and its dead-letter topic) with explicit partitions and
// configs; idempotent: existing topics are left as they are, except that missing partitions are added.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let contracts, config;
try {
  contracts = require(path.join(root, 'libs/contracts/dist/src/index.js'));
  config = require(path.join(root, 'libs/config/dist/src/index.js'));
} catch (error) {
  console.error(
    `[topics] the contracts and config libraries are not built (${error.message}); run \`npm run build\` first`,
  );
  process.exit(1);
}
const { Kafka, logLevel } = require('kafkajs');

// KAFKA_BROKERS, KAFKA_SASL_* and KAFKA_SSL as every service reads them (the provisioner user on the local stack).
const connection = config.loadConfig('topic-provisioner', config.kafkaKeys);
const kafka = new Kafka({
  clientId: 'topic-provisioner',
  brokers: connection.KAFKA_BROKERS,
  ...config.kafkaSecurity(connection, 'topic-provisioner'),
  logLevel: logLevel.ERROR,
  retry: { retries: 8 },
});
const admin = kafka.admin();

function configEntries(spec) {
  const entries = [
    { name: 'cleanup.policy', value: spec.compacted ? 'compact' : 'delete' },
    { name: 'min.insync.replicas', value: '1' },
  ];
  if (spec.retentionMs !== undefined) entries.push({ name: 'retention.ms', value: String(spec.retentionMs) });
  if (spec.compacted)
    entries.push({ name: 'min.cleanable.dirty.ratio', value: '0.1' }, { name: 'segment.ms', value: String(3_600_000) });
  return entries;
}

await admin.connect();
try {
  const existing = new Set(await admin.listTopics());
  const missing = contracts.TOPIC_SPECS.filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: 1,
        configEntries: configEntries(t),
      })),
    });
  }
  const present = contracts.TOPIC_SPECS.filter((t) => existing.has(t.name));
  if (present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const grow = metadata.topics
      .map((m) => ({
        topic: m.name,
        have: m.partitions.length,
        want: present.find((t) => t.name === m.name).partitions,
      }))
      .filter((g) => g.have < g.want);
    if (grow.length > 0)
      await admin.createPartitions({ topicPartitions: grow.map((g) => ({ topic: g.topic, count: g.want })) });
  }
  console.log(`[topics] ${contracts.TOPIC_SPECS.length} topics ready (${missing.length} created)`);
} finally {
  await admin.disconnect();
}
