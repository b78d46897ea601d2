// The same record with the official CloudEvents SDK (npm install cloudevents kafkajs), in structured mode: the
// whole event, attributes included, is the JSON value (content-type application/cloudevents+json).
// Run: node examples/cloudevents-sdk-structured.mjs
import { CloudEvent, Kafka as KafkaBinding } from 'cloudevents';
import { Kafka, Partitioners } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const dataset = process.env.DATASET ?? 'customer_activity';
const customerId = process.env.CUSTOMER_ID ?? 'customer-000123';

const event = new CloudEvent({
  type: 'mlops.data.record.v1',
  source: 'urn:example:crm',
  datacontenttype: 'application/json',
  partitionkey: `${dataset}/${customerId}`, // the Kafka binding's key extension
  data: {
    dataset,
    entityId: customerId,
    record: {
      customer_id: customerId,
      event_time: new Date().toISOString(),
      tenure_days: 412,
      monthly_spend: 39.9,
      plan: 'premium',
    },
  },
});
// KafkaBinding.binary(event) gives binary mode instead; ingestion takes both.
const message = KafkaBinding.structured(event);

const producer = new Kafka({ clientId: 'example-crm-sdk', brokers }).producer({
  idempotent: true,
  createPartitioner: Partitioners.DefaultPartitioner,
});
await producer.connect();
await producer.send({
  topic: 'mlops.data.record.v1',
  messages: [{ key: message.key, value: message.value, headers: message.headers }],
});
await producer.disconnect();
console.log(`sent CloudEvent ${event.id} (structured mode)`);
