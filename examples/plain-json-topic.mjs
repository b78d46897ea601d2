// An upstream team's own topic of plain JSON orders: no CloudEvents, no envelope. A dataset subscribes to it
// (README.md, "A plain JSON topic"). Run: node examples/plain-json-topic.mjs
import { Kafka, Partitioners } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const topic = process.env.TOPIC ?? 'shop.orders';

const kafka = new Kafka({ clientId: 'example-shop', brokers });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] }); // false when it exists already
await admin.disconnect();

const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
await producer.send({
  topic,
  messages: [
    // The key is the customer: with entityKey {"from":"kafka_key"} it becomes the record's entity id.
    { key: 'customer-000123', value: JSON.stringify({ ordered_at: new Date().toISOString(), amount: 42.5 }) },
    { key: 'customer-000456', value: JSON.stringify({ ordered_at: new Date().toISOString(), amount: 7 }) },
  ],
});
await producer.disconnect();
console.log(`sent 2 orders to ${topic}`);
