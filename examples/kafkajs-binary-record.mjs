// A record for ingestion as a CloudEvent in Kafka binary mode: attributes in ce_* headers, the record.v1 data as
// the JSON value. Run: node examples/kafkajs-binary-record.mjs (after registering the dataset, see README.md).
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const dataset = process.env.DATASET ?? 'customer_activity';
const customerId = process.env.CUSTOMER_ID ?? 'customer-000123';

const data = {
  dataset,
  entityId: customerId,
  recordId: `crm-${randomUUID()}`, // your own id of the record: a retry with the same id counts once
  record: {
    customer_id: customerId,
    event_time: new Date().toISOString(),
    tenure_days: 412,
    monthly_spend: 39.9,
    plan: 'premium',
  },
};

const kafka = new Kafka({ clientId: 'example-crm', brokers });
// acks=all, no duplicates from producer retries; the partitioner Java clients use, so keys land alike.
const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
await producer.send({
  topic: 'mlops.data.record.v1',
  messages: [
    {
      key: `${dataset}/${customerId}`, // dataset + entity: one entity's records stay in order
      value: JSON.stringify(data),
      headers: {
        ce_specversion: '1.0',
        ce_id: randomUUID(), // the same id from the same source is a duplicate
        ce_source: 'urn:example:crm',
        ce_type: 'mlops.data.record.v1',
        ce_time: new Date().toISOString(),
        'content-type': 'application/json',
      },
    },
  ],
});
await producer.disconnect();
console.log(`sent record ${data.recordId} of ${dataset}/${customerId}`);
