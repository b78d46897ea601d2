#!/usr/bin/env node
// Dead letters: `npm run dlq -- list`, `npm run dlq -- show <topic> [--limit N]`, `npm run dlq -- redrive <topic>`.
// <topic> is the original topic or its .dlq topic. KAFKA_BROKERS names the cluster (default 127.0.0.1:19092);
// KAFKA_SASL_MECHANISM/USERNAME/PASSWORD and KAFKA_SSL authenticate as a service does (stack.env sets them).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let messaging, config;
try {
  messaging = require(path.join(root, 'libs/messaging/dist/src/index.js'));
  config = require(path.join(root, 'libs/config/dist/src/index.js'));
} catch (error) {
  console.error(
    `[dlq] the messaging and config libraries are not built (${error.message}); run \`npm run build\` first`,
  );
  process.exit(1);
}
const { Kafka, logLevel } = require('kafkajs');

const usage = 'usage: npm run dlq -- list | show <topic> [--limit N] | redrive <topic>';
const [command, topic, ...rest] = process.argv.slice(2);
const limitAt = rest.indexOf('--limit');
const limit = limitAt >= 0 ? Number(rest[limitAt + 1]) : 20;
if (!command || (command !== 'list' && !topic) || !Number.isInteger(limit) || limit < 1) {
  console.error(usage);
  process.exit(64);
}

const connection = config.loadConfig('dlq', config.kafkaKeys);
const kafka = new Kafka({
  clientId: 'mlops-dlq',
  brokers: connection.KAFKA_BROKERS,
  ...config.kafkaSecurity(connection, 'dlq'),
  logLevel: logLevel.ERROR,
  retry: { retries: 5 },
});

try {
  if (command === 'list') {
    const rows = await messaging.listDeadLetterTopics(kafka);
    console.log('topic'.padEnd(52), 'total'.padStart(8), 'pending'.padStart(8));
    for (const row of rows)
      console.log(row.topic.padEnd(52), String(row.total).padStart(8), String(row.pending).padStart(8));
  } else if (command === 'show') {
    const letters = await messaging.showDeadLetters(kafka, topic, limit);
    for (const letter of letters) {
      console.log(
        `${letter.partition}/${letter.offset} ${letter.type} ${letter.id} from ${letter.original.topic}[${letter.original.partition}]@${letter.original.offset}`,
      );
      console.log(
        `  consumer ${letter.consumer}, reason ${letter.reason}, attempts ${letter.attempts}, at ${letter.failedAt}`,
      );
      console.log(`  error: ${letter.error}`);
      console.log(
        `  value: ${letter.value.length > 400 ? `${letter.value.slice(0, 400)}... (${letter.value.length} chars)` : letter.value}`,
      );
    }
    console.log(`${letters.length} pending dead letter(s) shown`);
  } else if (command === 'redrive') {
    const summary = await messaging.redriveDeadLetters(kafka, topic);
    console.log(
      `${summary.redriven} dead letter(s) moved back from ${summary.topic}${summary.skipped ? `, ${summary.skipped} skipped (another original topic)` : ''}`,
    );
  } else {
    console.error(usage);
    process.exit(64);
  }
} catch (error) {
  console.error(`[dlq] ${error.message}`);
  process.exit(1);
}
