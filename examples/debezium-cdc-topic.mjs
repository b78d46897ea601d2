// Change events in the shape Debezium's Postgres connector writes with the JSON converter and schemas disabled
// (value.converter.schemas.enable=false): key {"id": ...}, value {before, after, source, op, ts_ms}. A real
// connector writes the same to <topic.prefix>.<schema>.<table>; this script stands in for it.
// Run: node examples/debezium-cdc-topic.mjs
import { Kafka, Partitioners } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const topic = process.env.TOPIC ?? 'crm.public.customers';

const source = (tsMs) => ({
  version: '2.5.4.Final',
  connector: 'postgresql',
  name: 'crm',
  ts_ms: tsMs,
  snapshot: 'false',
  db: 'crm',
  schema: 'public',
  table: 'customers',
  txId: null,
  lsn: null,
  xmin: null,
});
const now = Date.now();
const row = {
  id: 1001,
  email: 'ada@example.com',
  plan: 'basic',
  tenure_days: 40,
  updated_at: new Date(now).toISOString(),
};
const change = (op, before, after, tsMs) => ({
  key: JSON.stringify({ id: (after ?? before).id }),
  value: JSON.stringify({ before, after, source: source(tsMs), op, ts_ms: tsMs + 150, transaction: null }),
});

const kafka = new Kafka({ clientId: 'example-debezium', brokers });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
await admin.disconnect();

const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
await producer.send({
  topic,
  messages: [
    change('c', null, row, now), // insert: becomes a record (the after row)
    change('u', row, { ...row, plan: 'premium' }, now + 1_000), // update: a record too
    change('d', { ...row, plan: 'premium' }, null, now + 2_000), // delete: a tombstone record, or skipped
    { key: JSON.stringify({ id: 1001 }), value: null }, // Kafka tombstone after a delete: always skipped
  ],
});
await producer.disconnect();
console.log(`sent 3 change events and a tombstone to ${topic}`);
