#!/usr/bin/env node
// The demo `npm start` runs once the six services are ready: the data plane end to end, through the
// services' own APIs and events. Register a features and a labels dataset at ingestion, define a feature
// view at the feature store, send records, read the online vector, backfill a second version of the view,
// then ask for a point-in-time training set of it the way the trainer will (mlops.dataset.snapshot.requested.v1)
// and wait for its announcement. Like a user, it first creates a data-steward and a producer token with the
// admin token (`POST /auth/tokens`) and uses each where its role is needed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const { EventTypes } = require('../libs/contracts/dist/src/index.js');
const { EventProducer, MessagingMetrics, newEvent, startGroupAtEnd } = require('../libs/messaging/dist/src/index.js');
const { Registry } = require('prom-client');
const { kafkaKeys, kafkaSecurity, loadConfig } = require('../libs/config/dist/src/index.js');

const INGESTION = process.env.INGESTION_URL ?? 'http://127.0.0.1:3001';
const FEATURES = process.env.FEATURE_STORE_URL ?? 'http://127.0.0.1:3002';
const run = randomUUID().slice(0, 6);
const customers = `demo_customers_${run}`;
const churn = `demo_churn_${run}`;
const view = `demo_customer_features_${run}`;
const say = (text) => console.log(`[demo] ${text}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const ADMIN_TOKEN_FILE = process.env.MLOPS_ADMIN_TOKEN_FILE ?? '.data/admin-token';

async function call(token, method, url, body, contentType = 'application/json') {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function until(what, probe, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await sleep(250);
  }
}

say(`admin token: ${ADMIN_TOKEN_FILE} (send it as "Authorization: Bearer <token>"; it may create and revoke tokens)`);
const adminToken = readFileSync(ADMIN_TOKEN_FILE, 'utf8').trim();
async function createToken(name, roles) {
  const res = await call(adminToken, 'POST', `${INGESTION}/auth/tokens`, { name, roles });
  if (res.status !== 201) throw new Error(`token ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  say(`  token ${res.body.id} "${name}" with roles [${roles.join(', ')}]`);
  return res.body.token;
}
say('creating a data-steward and a producer token through POST /auth/tokens');
const steward = await createToken(`demo-steward-${run}`, ['data-steward']);
const producerToken = await createToken(`demo-producer-${run}`, ['producer']);
// Tokens reach the other services as mlops.auth.token.changed.v1: wait until the feature store knows the steward.
await until('the feature store to learn the steward token', async () => {
  const res = await call(steward, 'GET', `${FEATURES}/auth/whoami`);
  return res.status === 200;
});
const anonymous = await fetch(`${INGESTION}/datasets/${customers}/records`, { method: 'POST' });
say(`  without a token: ${anonymous.status} (${anonymous.headers.get('www-authenticate')})`);

const now = Date.now();
const iso = (minutesAgo) => new Date(now - minutesAgo * 60_000).toISOString();

say(`registering datasets ${customers} (features) and ${churn} (labels)`);
let r = await call(steward, 'PUT', `${INGESTION}/datasets/${customers}`, {
  role: 'features',
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
  sensitiveFields: { email: 'drop' },
  recordSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['customer_id', 'event_time', 'spend', 'plan'],
    properties: {
      customer_id: { type: 'string' },
      event_time: { type: 'string', format: 'date-time' },
      spend: { type: 'number', minimum: 0 },
      plan: { enum: ['basic', 'premium'] },
      email: { type: ['string', 'null'] },
    },
  },
});
if (r.status !== 201) throw new Error(`dataset: ${r.status} ${JSON.stringify(r.body)}`);
r = await call(steward, 'PUT', `${INGESTION}/datasets/${churn}`, {
  role: 'labels',
  entityKeyField: 'customer_id',
  eventTimeField: 'event_time',
  labelField: 'churned',
  recordSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['customer_id', 'event_time', 'churned'],
    properties: {
      customer_id: { type: 'string' },
      event_time: { type: 'string', format: 'date-time' },
      churned: { type: 'boolean' },
    },
  },
});
if (r.status !== 201) throw new Error(`labels dataset: ${r.status} ${JSON.stringify(r.body)}`);

say(`defining feature view ${view}`);
const definition = {
  name: view,
  source: { dataset: customers },
  ttl: 'P7D',
  features: [
    { kind: 'field', name: 'spend', field: 'spend' },
    { kind: 'categorical', encoding: 'one-hot', name: 'plan', field: 'plan', vocabulary: ['basic', 'premium'] },
    { kind: 'aggregate', name: 'orders_1h', field: 'spend', function: 'count', window: 'PT1H' },
    { kind: 'aggregate', name: 'spend_1h', field: 'spend', function: 'sum', window: 'PT1H' },
    { kind: 'expression', name: 'avg_order_1h', expression: 'if(orders_1h > 0, spend_1h / orders_1h, null)' },
  ],
};
r = await until('the feature store to learn the dataset', async () => {
  const res = await call(steward, 'POST', `${FEATURES}/feature-views`, definition);
  if (res.status === 404) return undefined;
  if (res.status !== 201) throw new Error(`feature view: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
});

say('sending records (one invalid, to show the per-record answer)');
const records = [
  { customer_id: 'c1', event_time: iso(50), spend: 20, plan: 'basic', email: 'a@example.com' },
  { customer_id: 'c1', event_time: iso(30), spend: 40, plan: 'premium', email: 'a@example.com' },
  { customer_id: 'c2', event_time: iso(20), spend: 5, plan: 'basic' },
  { customer_id: 'c2', event_time: iso(10), spend: -1, plan: 'gold' },
];
r = await call(
  producerToken,
  'POST',
  `${INGESTION}/datasets/${customers}/records`,
  records.map((x) => JSON.stringify(x)).join('\n'),
  'application/x-ndjson',
);
for (const result of r.body.results)
  say(
    `  record ${result.index}: ${result.status}${result.errors?.length ? ' - ' + result.errors.map((e) => `${e.path} ${e.message}`).join('; ') : ''}`,
  );

const vector = await until('the online vector of c1', async () => {
  const res = await call(steward, 'GET', `${FEATURES}/feature-views/${view}/entities/c1`);
  return res.status === 200 && res.body.features.orders_1h === 2 ? res.body : undefined;
});
say(`online vector of c1: ${JSON.stringify(vector.features)} (fresh: ${vector.fresh})`);

say('a new version of the view (one more feature) is backfilled from the offline store before it serves');
r = await call(steward, 'POST', `${FEATURES}/feature-views`, {
  ...definition,
  features: [
    ...definition.features,
    { kind: 'aggregate', name: 'max_spend_1h', field: 'spend', function: 'max', window: 'PT1H' },
  ],
});
if (r.status !== 201) throw new Error(`feature view version 2: ${r.status} ${JSON.stringify(r.body)}`);
const v2 = await until('version 2 to be backfilled', async () => {
  const res = await call(steward, 'GET', `${FEATURES}/feature-views/${view}`);
  return res.body?.servingVersion === 2 ? res.body.versions[1] : undefined;
});
say(
  `  version 2 ${v2.status}: ${v2.backfill.records} records replayed, ${v2.backfill.rows} offline rows, ${v2.backfill.entities} entities`,
);
const backfilled = await call(steward, 'GET', `${FEATURES}/feature-views/${view}/entities/c1`);
say(`  online vector of c1 in version 2: ${JSON.stringify(backfilled.body.features)}`);

say('labels arrive, then a point-in-time training set is requested');
await call(producerToken, 'POST', `${INGESTION}/datasets/${churn}/records`, [
  { customer_id: 'c1', event_time: new Date().toISOString(), churned: false },
  { customer_id: 'c2', event_time: new Date().toISOString(), churned: true },
]);
const kafkaConnection = loadConfig('demo', kafkaKeys);
const kafka = new Kafka({
  clientId: 'demo',
  brokers: kafkaConnection.KAFKA_BROKERS,
  ...kafkaSecurity(kafkaConnection, 'demo'),
  logLevel: logLevel.NOTHING,
});
const group = `demo-${run}`;
await startGroupAtEnd(kafka, group, [EventTypes.DatasetSnapshotCreatedV1]);
const consumer = kafka.consumer({ groupId: group });
let created;
await consumer.connect();
await consumer.subscribe({ topic: EventTypes.DatasetSnapshotCreatedV1 });
await consumer.run({
  eachMessage: async ({ message }) => {
    const data = JSON.parse(message.value.toString());
    if (data.featureView?.name === view) created = data;
  },
});
const producer = new EventProducer({ kafka, metrics: MessagingMetrics.for(new Registry()) });
await producer.connect();
await sleep(3_000); // the labels reach the offline store
await producer.publish(
  newEvent(
    EventTypes.DatasetSnapshotRequestedV1,
    {
      snapshotId: randomUUID(),
      trainingRunId: randomUUID(),
      featureView: { name: view, version: 2 },
      labels: { dataset: churn, field: 'churned' },
      timeRange: { start: iso(120), end: new Date(Date.now() + 60_000).toISOString() },
      featureTtlSeconds: 86_400,
      requestedAt: new Date().toISOString(),
    },
    { source: 'urn:mlops:demo' },
  ),
);
await until('mlops.dataset.snapshot.created.v1', async () => created);
say(`snapshot: ${created.rows} rows, sha256 ${created.sha256}, ${created.uri}`);
await producer.disconnect();
await consumer.disconnect();
say(
  'data plane demonstrated: records validated, features online and offline, a point-in-time training set written and announced',
);
