#!/usr/bin/env node
// The scenario `npm start` runs once the six services are ready: the closed loop (MLOps maturity level 2), through
// the services' own APIs and events, on seeded credit-risk data (libs/demo-data).
//
//  1. tokens for each role; the applicants and defaults datasets; the credit_risk feature view
//  2. a history of applications and their outcomes, imported with knownAt=event-time
//  3. train v1 (trainer) -> the registry's gate promotes it -> the deployer serves it
//  4. live applicants: features online -> predictions by entity -> outcomes arrive later -> the monitor joins them
//  5. the population (and how it relates to default) shifts: the monitor detects drift, asks for training, v2 is
//     trained, passes the gate (champion and challenger on the same holdout), is promoted and swapped in
//  6. predictions of v2; a closing table (versions, metrics, drift, loop time) and the counts: served = logged = stored
//
// DEMO_SIZE=small makes it smaller (the end-to-end test); DEMO_SUMMARY_FILE writes the closing figures as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const { kafkaKeys, kafkaSecurity, loadConfig } = require('../libs/config/dist/src/index.js');
const demo = require('../libs/demo-data/dist/src/index.js');

const url = (key, port) => process.env[key] ?? `http://127.0.0.1:${port}`;
const URLS = {
  ingestion: url('INGESTION_URL', 3001),
  featureStore: url('FEATURE_STORE_URL', 3002),
  trainer: url('TRAINER_URL', 3003),
  registry: url('REGISTRY_URL', 3004),
  deployer: url('DEPLOYER_URL', 3005),
  monitor: url('MONITOR_URL', 3006),
};
const SMALL = process.env.DEMO_SIZE === 'small';
const SIZE = SMALL
  ? { history: 1200, live: 300, shifted: 450, after: 150, window: 150 }
  : { history: 3000, live: 600, shifted: 900, after: 300, window: 200 };
const SEED = Number(process.env.DEMO_SEED ?? 7);
const run = process.env.DEMO_RUN ?? randomUUID().slice(0, 6);
const APPLICANTS = `${demo.APPLICANTS_DATASET_NAME}_${run}`;
const DEFAULTS = `${demo.DEFAULT_LABELS_DATASET_NAME}_${run}`;
const VIEW = `${demo.CREDIT_RISK_VIEW_NAME}_${run}`;
const MODEL = `credit-risk-${run}`;
const LABEL = demo.DEFAULT_LABEL_FIELD;
const ADMIN_TOKEN_FILE = process.env.MLOPS_ADMIN_TOKEN_FILE ?? '.data/admin-token';
const TTY = process.stdout.isTTY;
const started = Date.now();
const stamp = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (text) => console.log(`[demo ${stamp()}] ${text}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function progress(label, done, total) {
  if (!TTY) {
    if (done === total) say(`  ${label}: ${done}/${total}`);
    return;
  }
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stdout.write(
    `\r[demo ${stamp()}]   ${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`,
  );
  if (done === total) process.stdout.write('\n');
}

async function call(token, method, target, body, headers = {}) {
  const init = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] ??= 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(target, init);
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

async function must(what, promise, ...ok) {
  const res = await promise;
  if (!ok.includes(res.status)) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function until(what, probe, timeoutMs = 120_000, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---- events as they happen: every mlops.* topic, read from now on with the admin's Kafka user
const narrated = [];
async function narrate() {
  const config = loadConfig('demo', kafkaKeys);
  const kafka = new Kafka({
    clientId: 'demo',
    brokers: config.KAFKA_BROKERS,
    ...kafkaSecurity(config, 'demo'),
    logLevel: logLevel.NOTHING,
  });
  const interesting = [
    'mlops.training.requested.v1',
    'mlops.dataset.snapshot.created.v1',
    'mlops.model.trained.v1',
    'mlops.training.failed.v1',
    'mlops.model.registered.v1',
    'mlops.model.promoted.v1',
    'mlops.deployment.succeeded.v1',
    'mlops.deployment.failed.v1',
    'mlops.drift.detected.v1',
    'mlops.model.degraded.v1',
  ];
  const consumer = kafka.consumer({ groupId: `demo-narrator-${run}` });
  await consumer.connect();
  await consumer.subscribe({ topics: interesting, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      let data;
      try {
        data = JSON.parse(message.value.toString());
        if (data && typeof data === 'object' && 'data' in data && 'specversion' in data) data = data.data;
      } catch {
        return;
      }
      const mine = data?.model === MODEL || data?.featureView?.name === VIEW;
      if (!mine) return;
      narrated.push({ topic, at: Date.now(), data });
      say(`  event ${topic.replace(/^mlops\./, '').replace(/\.v1$/, '')}: ${describe(topic, data)}`);
    },
  });
  // Wait until the group has its partitions, so no event of the scenario is missed.
  await new Promise((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, resolve);
    setTimeout(resolve, 15_000);
  });
  return consumer;
}

function describe(topic, d) {
  switch (topic) {
    case 'mlops.training.requested.v1':
      return `train ${d.model} (${d.reason?.trigger}${d.reason?.detail ? `: ${d.reason.detail}` : ''}) by ${d.requestedBy}`;
    case 'mlops.dataset.snapshot.created.v1':
      return `point-in-time training set, ${d.rows} rows, sha256 ${String(d.sha256).slice(0, 12)}`;
    case 'mlops.model.trained.v1':
      return `${d.algorithm}, holdout auc ${fmt(d.metrics?.auc)}, ${d.artifact?.sizeBytes ?? '?'} bytes of ONNX`;
    case 'mlops.training.failed.v1':
      return `${d.errorCode}: ${d.message}`;
    case 'mlops.model.registered.v1':
      return `version ${d.version}`;
    case 'mlops.model.promoted.v1':
      return `${d.alias} -> v${d.version} (was ${d.previousVersion ?? 'none'}, ${d.trigger}): ${d.reason}`;
    case 'mlops.deployment.succeeded.v1':
      return `v${d.version} serving (${d.strategy}, warm-up ${d.warmupMs} ms)`;
    case 'mlops.deployment.failed.v1':
      return `v${d.version} not deployed: ${d.code ?? d.errorCode ?? ''} ${d.message ?? ''}`;
    case 'mlops.drift.detected.v1':
      return `${d.kind} ${d.feature ?? ''} ${d.metric} ${fmt(d.value)} > ${fmt(d.threshold)} (${d.severity})`;
    case 'mlops.model.degraded.v1':
      return `${d.metric} ${fmt(d.value)} under ${fmt(d.threshold)}`;
    default:
      return '';
  }
}
const fmt = (x) => (typeof x === 'number' ? x.toFixed(3) : String(x));

// ---- the scenario
say(`closed loop on credit-risk data (seed ${SEED}, ${SMALL ? 'small' : 'full'} size), run ${run}`);
const adminToken = readFileSync(ADMIN_TOKEN_FILE, 'utf8').trim();
say(`admin token: ${ADMIN_TOKEN_FILE}; every call below uses a token of the role it needs`);
const tokens = {};
for (const role of ['data-steward', 'producer', 'trainer', 'promoter', 'reader', 'analyst']) {
  const body = await must(
    `token ${role}`,
    call(adminToken, 'POST', `${URLS.ingestion}/auth/tokens`, { name: `demo-${role}-${run}`, roles: [role] }),
    201,
  );
  tokens[role] = body.token;
}
say(`  created tokens for ${Object.keys(tokens).join(', ')}; waiting until every service knows them`);
for (const [service, base] of Object.entries(URLS))
  await until(
    `${service} to learn the tokens`,
    async () => (await call(tokens.analyst, 'GET', `${base}/auth/whoami`)).status === 200,
  );

const narrator = await narrate();

say(`1. datasets ${APPLICANTS} (features) and ${DEFAULTS} (labels), feature view ${VIEW}`);
await must(
  'applicants dataset',
  call(tokens['data-steward'], 'PUT', `${URLS.ingestion}/datasets/${APPLICANTS}`, demo.APPLICANTS_DATASET),
  200,
  201,
);
await must(
  'defaults dataset',
  call(tokens['data-steward'], 'PUT', `${URLS.ingestion}/datasets/${DEFAULTS}`, demo.DEFAULT_LABELS_DATASET),
  200,
  201,
);
await until('the feature store to accept the view', async () => {
  const res = await call(tokens['data-steward'], 'POST', `${URLS.featureStore}/feature-views`, {
    ...demo.CREDIT_RISK_FEATURE_VIEW,
    name: VIEW,
    source: { ...demo.CREDIT_RISK_FEATURE_VIEW.source, dataset: APPLICANTS },
  });
  if (res.status === 201) return true;
  if (res.status === 404 || res.status === 503) return false;
  throw new Error(`feature view: ${res.status} ${JSON.stringify(res.body)}`);
});
await must(
  'registry model',
  call(tokens['data-steward'], 'PUT', `${URLS.registry}/models/${MODEL}`, {
    reason: 'demo: the credit-risk model, promoted when it beats production on the same holdout',
    task: 'binary_classification',
    owner: 'credit-risk-demo',
    policy: {
      alias: 'production',
      metric: 'auc',
      higherIsBetter: true,
      floor: 0.6,
      mode: 'automatic',
      autoRollback: true,
    },
  }),
  201,
);
await must(
  'monitor policy',
  call(tokens.promoter, 'PUT', `${URLS.monitor}/models/${MODEL}/policy`, {
    window: { by: 'count', size: SIZE.window },
    performance: { metric: 'auc', floor: 0.6, minLabeled: 50, labelHorizonSeconds: 15, windowSeconds: 20 },
    // The cooldown outlasts the candidate's way to production (trained, registered, gated, deployed): the old
    // version's windows keep drifting meanwhile, and one request per loop is what the demo shows.
    training: { driftWindows: 1, onDegradation: false, cooldownSeconds: 600, since: 'drift_start' },
  }),
  200,
);
say(
  '  registry: auc floor 0.6, automatic to production; monitor: windows of ' +
    SIZE.window +
    ' predictions, retrain after 1 drifted window on the labels since the drift began',
);

async function sendRecords(dataset, records, label, query = '') {
  const chunk = 200;
  for (let i = 0; i < records.length; i += chunk) {
    const part = records.slice(i, i + chunk);
    const body = await must(
      `records of ${dataset}`,
      call(
        tokens.producer,
        'POST',
        `${URLS.ingestion}/datasets/${dataset}/records${query}`,
        part.map((r) => JSON.stringify(r)).join('\n'),
        {
          'content-type': 'application/x-ndjson',
        },
      ),
      200,
      202,
      207,
    );
    const rejected = (body.results ?? []).filter((r) => r.status !== 'accepted');
    if (rejected.length) throw new Error(`records of ${dataset} rejected: ${JSON.stringify(rejected.slice(0, 3))}`);
    progress(label, Math.min(i + chunk, records.length), records.length);
  }
}

const DAY = 86_400_000;
const historyStart = Date.now() - 3 * DAY;
const history = demo.generateCreditRisk({
  seed: SEED,
  count: SIZE.history,
  startMs: historyStart,
  intervalMs: Math.floor((3 * DAY - 2 * 3_600_000) / SIZE.history),
  labelDelayMs: 3_600_000,
});
say(`2. a history of ${SIZE.history} applications over 3 days and their outcomes (imported with knownAt=event-time)`);
await sendRecords(
  APPLICANTS,
  history.map((e) => e.applicant),
  'applications',
  '?knownAt=event-time',
);
await sendRecords(
  DEFAULTS,
  history.map((e) => e.label),
  'outcomes',
  '?knownAt=event-time',
);
const defaultRate = history.filter((e) => e.label[LABEL]).length / history.length;
say(`  default rate in the history: ${(defaultRate * 100).toFixed(1)}%`);

// A training set for people (POST /training-sets): the same point-in-time build the trainer asks for. Built until
// every outcome of the history has reached the offline store with its features.
const historyWindow = { start: new Date(historyStart).toISOString(), end: new Date().toISOString() };
const probe = await until('the history in the offline store', async () => {
  const res = await call(tokens.trainer, 'POST', `${URLS.featureStore}/training-sets`, {
    id: randomUUID(),
    featureView: { name: VIEW, version: 1 },
    labels: { dataset: DEFAULTS, field: LABEL },
    timeRange: historyWindow,
  });
  if (res.status !== 201) return undefined;
  return res.body.rows === history.length && res.body.quality?.rowsWithFeatures === history.length
    ? res.body
    : undefined;
});
say(
  `  point-in-time training set: ${probe.rows} rows, every one with features; Parquet ${probe.files.parquet?.sizeBytes ?? '?'} bytes (sha256 ${String(probe.files.parquet?.sha256 ?? '').slice(0, 12)})`,
);

say('3. train v1 (gradient boosting) on the history; the gate promotes it and the deployer loads it');
const v1Run = randomUUID();
await must(
  'training request',
  call(tokens.trainer, 'POST', `${URLS.trainer}/training-runs`, {
    trainingRunId: v1Run,
    model: MODEL,
    task: 'binary_classification',
    algorithm: 'gradient_boosting',
    featureView: { name: VIEW, version: 1 },
    labels: { dataset: DEFAULTS, field: LABEL },
    trainingWindow: historyWindow,
    params: { seed: SEED },
    reason: { trigger: 'manual', detail: 'demo: first model' },
  }),
  202,
);
await until(
  'v1 to be trained',
  async () => {
    const res = await call(tokens.reader, 'GET', `${URLS.trainer}/training-runs/${v1Run}`);
    if (res.body?.status === 'failed')
      throw new Error(`v1 training failed: ${JSON.stringify(res.body.failure ?? res.body)}`);
    if (TTY && typeof res.body?.progress === 'number')
      progress('training v1', Math.round(res.body.progress * 100), 100);
    return res.body?.status === 'succeeded';
  },
  300_000,
);
const servingVersion = async () => {
  const res = await call(tokens.reader, 'GET', `${URLS.deployer}/models`);
  const entry = (res.body?.models ?? []).find((m) => m.model === MODEL && m.alias === 'production');
  return entry?.version;
};
await until('v1 serving', async () => (await servingVersion()) === 1, 120_000);
say('  v1 is serving');

// ---- live traffic: applicants arrive, are scored by entity, their outcomes arrive later
let nextIndex = SIZE.history;
const served = { count: 0, byVersion: {} };
async function liveBatch(label, count, shift) {
  const examples = demo.generateCreditRisk({
    seed: SEED,
    count,
    startIndex: nextIndex,
    startMs: Date.now(),
    intervalMs: 10,
    labelDelayMs: 0,
    populationShift: shift,
    conceptShift: shift > 0 ? 1 : 0,
  });
  nextIndex += count;
  const now = new Date().toISOString();
  const applicants = examples.map((e) => ({ ...e.applicant, event_time: now }));
  await sendRecords(APPLICANTS, applicants, `${label}: applications`);
  const served1 = (body) => {
    served.count++;
    served.byVersion[body.version] = (served.byVersion[body.version] ?? 0) + 1;
    return body;
  };
  const predict = (entityId) => call(tokens.reader, 'POST', `${URLS.deployer}/models/${MODEL}/predict`, { entityId });
  // An applicant is scored once the deployer's online features have it (404 unknown_entity until then: records of
  // different applicants travel on different partitions, so they arrive in no global order).
  const predictWhenOnline = (entityId) =>
    until(
      `the online features of ${entityId}`,
      async () => {
        const res = await predict(entityId);
        if (res.status === 200) return res.body;
        if (res.status !== 404 || res.body?.error !== 'unknown_entity')
          throw new Error(`predict: ${res.status} ${JSON.stringify(res.body)}`);
        return undefined;
      },
      60_000,
      100,
    );
  const last = applicants[applicants.length - 1].applicant_id;
  const first = await predictWhenOnline(last);
  const scores = [served1(first)];
  const rest = applicants.slice(0, -1);
  const concurrency = 8;
  for (let i = 0; i < rest.length; i += concurrency) {
    const answers = await Promise.all(
      rest.slice(i, i + concurrency).map(async (a) => served1(await predictWhenOnline(a.applicant_id))),
    );
    scores.push(...answers);
    progress(`${label}: predictions`, scores.length, applicants.length);
  }
  // The outcomes are known later: labelled now, after every prediction.
  const labelledAt = new Date().toISOString();
  await sendRecords(
    DEFAULTS,
    examples.map((e) => ({ ...e.label, event_time: labelledAt })),
    `${label}: outcomes`,
  );
  const defaults = examples.filter((e) => e.label[LABEL]).length;
  say(`  ${label}: ${count} scored (versions ${JSON.stringify(served.byVersion)}), ${defaults} defaulted`);
  return scores;
}

say(`4. live applicants, no shift: ${SIZE.live} applications scored by entity, outcomes arrive after`);
await liveBatch('steady', SIZE.live, 0);
await sleep(3_000);
const driftBefore = await call(tokens.reader, 'GET', `${URLS.monitor}/models/${MODEL}/drift`);
const driftedBefore = driftedWindows(driftBefore.body);
say(`  monitor: ${driftedBefore} drifted window(s) before the shift`);

say(
  `5. the population shifts (older debts, higher utilization) and so does how it defaults: ${SIZE.shifted} applications`,
);
const shiftAt = Date.now();
await liveBatch('shifted', SIZE.shifted, 1.5);
say('  waiting for the monitor to detect drift, ask for training, and v2 to be trained, promoted and served');
await until('v2 serving', async () => (await servingVersion()) >= 2, 600_000, 1000);
const loopSeconds = (Date.now() - shiftAt) / 1000;
say(`  v2 is serving, ${loopSeconds.toFixed(1)} s after the shift began`);

say(`6. ${SIZE.after} more shifted applications, now scored by v2`);
await liveBatch('after', SIZE.after, 1.5);

// ---- closing figures
await sleep(5_000);
const versions = (await call(tokens.reader, 'GET', `${URLS.registry}/models/${MODEL}/versions`)).body;
const drift = (await call(tokens.reader, 'GET', `${URLS.monitor}/models/${MODEL}/drift`)).body;
// Live performance: a window is judged once its outcomes had time to arrive (labelHorizonSeconds).
const performance = await until(
  'live performance of v2',
  async () => {
    const res = await call(tokens.reader, 'GET', `${URLS.monitor}/models/${MODEL}/performance`);
    return res.body?.windows?.some((w) => w.version === 2) ? res.body : undefined;
  },
  // v2's windows are judged once their labels had time to arrive, by an evaluation pass that may be slow on a
  // loaded machine: wait for it rather than close without them.
  300_000,
  2000,
).catch(async () => (await call(tokens.reader, 'GET', `${URLS.monitor}/models/${MODEL}/performance`)).body);
const stored = await until(
  'every prediction stored by the monitor',
  async () => {
    const res = await call(
      tokens.analyst,
      'GET',
      `${URLS.monitor}/clickhouse?query=${encodeURIComponent(`SELECT count() AS n FROM monitor.predictions FINAL WHERE model = '${MODEL}'`)}&default_format=JSON`,
    );
    const n = Number(res.body?.data?.[0]?.n ?? -1);
    return n >= served.count ? n : undefined; // more than served would be a double count: the test compares
  },
  120_000,
  1000,
).catch(() => -1);
const list = Array.isArray(versions) ? versions : (versions?.versions ?? versions?.items ?? []);
const liveAuc = (version) => {
  const windows = (performance?.windows ?? []).filter((w) => w.version === version && w.metrics?.auc != null);
  return windows.length ? windows.map((w) => fmt(w.metrics.auc)).join(' ') : '-';
};
console.log('');
console.log('version | status      | holdout auc | live auc per window | gate');
for (const v of list.slice().sort((a, b) => a.version - b.version))
  console.log(
    `${String(v.version).padEnd(7)} | ${String(v.status).padEnd(11)} | ${fmt(v.metrics?.auc).padEnd(11)} | ${liveAuc(v.version).padEnd(19)} | ${v.gateDecision?.reason ?? v.gate?.reason ?? v.gateDecision?.decision ?? ''}`.slice(
      0,
      220,
    ),
  );
console.log('');
const datasetDrift = (drift?.windows ?? []).filter((w) => w.datasetDrifted);
console.log(
  `drift: ${datasetDrift.length} window(s) with dataset drift (drifted share ${datasetDrift.map((w) => fmt(w.driftedShare)).join(', ')}), ` +
    `${narrated.filter((e) => e.topic === 'mlops.drift.detected.v1').length} drift events, ` +
    `${narrated.filter((e) => e.topic === 'mlops.training.requested.v1').length} training requests`,
);
// The feedback loop step by step, from the events of this model as they were seen.
const firstAfter = (topic, from, match = () => true) =>
  narrated.find((e) => e.topic === topic && e.at >= from && match(e.data));
const steps = [];
let cursor = shiftAt;
for (const [name, topic, match] of [
  ['shift -> dataset drift detected', 'mlops.drift.detected.v1', (d) => d.kind === 'dataset'],
  ['-> training requested', 'mlops.training.requested.v1', (d) => d.requestedBy === 'monitor'],
  ['-> training set built', 'mlops.dataset.snapshot.created.v1', () => true],
  ['-> v2 trained', 'mlops.model.trained.v1', () => true],
  ['-> v2 promoted', 'mlops.model.promoted.v1', (d) => d.version === 2],
  ['-> v2 serving', 'mlops.deployment.succeeded.v1', (d) => d.version === 2],
]) {
  const event = firstAfter(topic, cursor, match);
  if (!event) break;
  steps.push({ step: name, seconds: (event.at - cursor) / 1000 });
  cursor = event.at;
}
console.log(`feedback loop (shift -> v2 serving): ${loopSeconds.toFixed(1)} s`);
for (const { step, seconds } of steps) console.log(`  ${step.padEnd(34)} ${seconds.toFixed(1).padStart(6)} s`);
console.log(`predictions served ${served.count}, stored by the monitor ${stored}`);
console.log('');
const summary = {
  run,
  model: MODEL,
  served,
  stored,
  loopSeconds,
  loopSteps: steps,
  driftedWindowsBeforeShift: driftedBefore,
  driftEvents: narrated.filter((e) => e.topic === 'mlops.drift.detected.v1').map((e) => e.data),
  trainingRequests: narrated.filter((e) => e.topic === 'mlops.training.requested.v1').map((e) => e.data),
  promotions: narrated.filter((e) => e.topic === 'mlops.model.promoted.v1').map((e) => e.data),
  deployments: narrated.filter((e) => e.topic === 'mlops.deployment.succeeded.v1').map((e) => e.data),
  versions: list,
  drift,
  performance,
};
if (process.env.DEMO_SUMMARY_FILE) writeFileSync(process.env.DEMO_SUMMARY_FILE, JSON.stringify(summary, null, 2));
await narrator.disconnect();
say('open in a browser:');
say(`  monitor report   ${URLS.monitor}/models/${MODEL}/report`);
say(`  model card       ${URLS.registry}/models/${MODEL}/versions/2/card.md`);
say(`  API docs         ${URLS.ingestion}/docs ... ${URLS.monitor}/docs`);
say(`  (send "Authorization: Bearer <token>"; the admin token is in ${ADMIN_TOKEN_FILE})`);

function driftedWindows(body) {
  const windows = Array.isArray(body) ? body : (body?.windows ?? []);
  return windows.filter((w) => w.datasetDrifted).length;
}
