// The monitor app in-process against the REAL stack (Kafka, Postgres, embedded chdb in its own temporary
// directory): events go in through an EventProducer, results come out on their topics and over HTTP. The
// evaluation loop is off; each test runs a pass itself with the time it needs. Each test has its own model.
import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import { createClient } from '@clickhouse/client';
import type { KafkaMessage } from 'kafkajs';
import { launch } from 'puppeteer-core';
import { type EventData, EventTypes, type PredictionLoggedV1 } from '@mlops/contracts';
import { type CloudEvent, EventProducer, newEvent } from '@mlops/messaging';
import { CLICKHOUSE, type ClickHouseClient } from '@mlops/storage';
import { TEST_ADMIN_TOKEN, authorized, readTopicAs, testKafka } from '@mlops/testing';
import { createMonitorApp } from '../src/app';
import { EvaluateModelsService } from '../src/evaluation/evaluate-models/evaluate-models.service';
import { MonitorStore } from '../src/infrastructure/monitor-store';
import { categoricalReference, categories, normals, numericReference } from './fixtures';
import { eventually, modelName, registeredData, testConfig, trainedData } from './support';

const SOURCE = 'urn:mlops:test:monitor';
const MINUTE = 60_000;
/** Windows of one minute, aligned on the epoch, an hour before the test: complete when the pass runs. */
const BASE = Math.floor((Date.now() - 60 * MINUTE) / MINUTE) * MINUTE;

let app: INestApplication;
let base: string;
let producer: EventProducer;
let clickhouse: ClickHouseClient;
let clickhouseDir: string;

before(async () => {
  const setup = await testConfig();
  clickhouseDir = setup.clickhouseDir;
  app = await createMonitorApp(setup.config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  producer = app.get(EventProducer);
  clickhouse = app.get<ClickHouseClient>(CLICKHOUSE);
});

after(async () => {
  await app?.close();
  await rm(clickhouseDir, { recursive: true, force: true });
});

function event<T extends keyof typeof EventTypes>(
  type: T,
  data: EventData<(typeof EventTypes)[T]>,
): CloudEvent<(typeof EventTypes)[T]> {
  return newEvent(EventTypes[type], data, { source: SOURCE });
}

async function count(sql: string, params: Record<string, unknown>): Promise<number> {
  const rows = await (
    await clickhouse.query({ query: sql, format: 'JSONEachRow', query_params: params })
  ).json<{
    n: string | number;
  }>();
  return Number(rows[0]?.n ?? 0);
}

const reference = {
  income: normals(4000, 50, 10, 101),
  debt: normals(4000, 20, 5, 102),
  plan: categories(4000, { basic: 5, premium: 3, enterprise: 2 }, 103),
};
const referenceScores = normals(4000, 0.3, 0.1, 104);

/** Registers version 1 of `model` (references above) and its training lineage. */
async function registerModel(model: string): Promise<ReturnType<typeof trainedData>> {
  const trained = trainedData(
    model,
    {
      income: numericReference(reference.income),
      debt: numericReference(reference.debt),
      plan: categoricalReference(reference.plan),
    },
    numericReference(referenceScores),
  );
  await producer.publishMany([
    event('ModelTrainedV1', trained),
    event('ModelRegisteredV1', registeredData(trained, 1)),
  ]);
  const store = app.get(MonitorStore);
  await eventually(async () => (await store.versions(undefined, model)).length === 1, 'version registered');
  await eventually(async () => (await store.lineage(store.dataSource.manager, model)) !== undefined, 'lineage');
  await eventually(
    async () =>
      (await count(`SELECT count() AS n FROM monitor.reference_distributions FINAL WHERE model = {m:String}`, {
        m: model,
      })) === 4,
    'references stored',
  );
  return trained;
}

function prediction(
  model: string,
  at: number,
  features: PredictionLoggedV1['features'],
  score: number,
  entityId: string,
) {
  return event('PredictionLoggedV1', {
    requestId: randomUUID(),
    model,
    alias: 'production',
    version: 1,
    entityId,
    features,
    missingFeatures: [],
    output: { value: score, label: score >= 0.5 },
    latencyMs: 2,
    channel: 'http',
    servingRole: 'primary',
    timestamp: new Date(at).toISOString(),
  });
}

/** `count` predictions spread over the minute from `start`; shifted: income +1.5 sd, plans reversed, scores up. */
function predictions(model: string, start: number, count: number, shifted: boolean, seed: number) {
  const income = normals(count, shifted ? 65 : 50, 10, seed);
  const debt = normals(count, 20, 5, seed + 1);
  const plan = categories(
    count,
    shifted ? { basic: 1, premium: 2, enterprise: 7 } : { basic: 5, premium: 3, enterprise: 2 },
    seed + 2,
  );
  const scores = normals(count, shifted ? 0.5 : 0.3, 0.1, seed + 3);
  return income.map((value, i) =>
    prediction(
      model,
      start + Math.floor((i * MINUTE) / count),
      { income: value, debt: debt[i]!, plan: plan[i]! },
      Math.min(1, Math.max(0, scores[i]!)),
      `c-${seed}-${i}`,
    ),
  );
}

async function storedPredictions(model: string): Promise<number> {
  return count(`SELECT count() AS n FROM monitor.predictions FINAL WHERE model = {m:String}`, { m: model });
}

function readEvents<T>(topic: string, model: string, enough: (matched: T[]) => boolean): Promise<T[]> {
  return readTopicAs(
    testKafka('monitor-test-reader'),
    topic,
    (message: KafkaMessage) => JSON.parse(message.value?.toString() ?? 'null') as T & { model: string },
    (data) => data.model === model,
    enough,
  );
}

test('every input lands in ClickHouse, and a redelivered prediction is stored once', async () => {
  const model = await (async () => {
    const name = modelName('sink');
    await registerModel(name);
    return name;
  })();
  const first = prediction(model, BASE, { income: 50, debt: 20, plan: 'basic' }, 0.2, 'c1');
  const second = prediction(model, BASE + 1000, { income: 51, debt: 21, plan: 'premium' }, 0.3, 'c1');
  await producer.publish(first);
  await producer.publish(second);
  await producer.publish(first); // the same event again: same id, same key
  const marker = prediction(model, BASE + 2000, { income: 52, debt: 22, plan: 'basic' }, 0.4, 'c1');
  await producer.publish(marker);
  await eventually(
    async () =>
      (await count(`SELECT count() AS n FROM monitor.predictions FINAL WHERE event_id = {id:String}`, {
        id: marker.id,
      })) === 1,
    'marker stored',
  );
  assert.equal(await storedPredictions(model), 3);
  const raw = await count(`SELECT count() AS n FROM monitor.predictions WHERE model = {m:String}`, { m: model });
  assert.equal(raw, 3, 'the inbox kept the copy out; FINAL would have merged it anyway');

  const dataset = `${model}_labels`.replace(/-/g, '_');
  await producer.publishMany([
    event('DataValidatedV1', {
      dataset,
      datasetVersion: 1,
      role: 'labels',
      entityId: 'c1',
      eventTime: new Date(BASE + 5000).toISOString(),
      record: { customer_id: 'c1', churned: true },
      sourceEventId: randomUUID(),
      validatedAt: new Date().toISOString(),
    }),
    event('DataValidatedV1', {
      dataset: `${dataset}_features`,
      datasetVersion: 1,
      role: 'features',
      entityId: 'c1',
      eventTime: new Date(BASE).toISOString(),
      record: { customer_id: 'c1', income: 3 },
      sourceEventId: randomUUID(),
      validatedAt: new Date().toISOString(),
    }),
    event('DataQualityV1', {
      dataset,
      window: { start: new Date(BASE).toISOString(), end: new Date(BASE + MINUTE).toISOString() },
      accepted: 10,
      rejected: 2,
      rejectedByKind: { missing_field: 2 },
      nullRates: { churned: 0.1 },
    }),
    event('DeploymentSucceededV1', {
      model,
      alias: 'production',
      version: 1,
      strategy: 'hot_swap',
      instanceId: 'deployer-1',
      promotionEventId: randomUUID(),
      previousVersion: null,
      artifactSha256: 'a'.repeat(64),
      warmupMs: 12,
      servingSince: new Date(BASE).toISOString(),
    }),
    event('DeploymentFailedV1', {
      model,
      alias: 'production',
      version: 2,
      strategy: 'hot_swap',
      instanceId: 'deployer-1',
      promotionEventId: randomUUID(),
      stage: 'verify',
      errorCode: 'sha256_mismatch',
      message: 'the artifact does not match its sha256',
      servingVersion: 1,
      failedAt: new Date(BASE + 1000).toISOString(),
    }),
    event('FeaturesMaterializedV1', {
      featureView: { name: `${dataset}_view`, version: 1 },
      entityId: 'c1',
      features: { income: 50, plan: 'basic', active: true, missing: null },
      eventTime: new Date(BASE).toISOString(),
      materializedAt: new Date().toISOString(),
    }),
  ]);
  await eventually(
    async () =>
      (await count(`SELECT count() AS n FROM monitor.feature_stream FINAL WHERE view_name = {v:String}`, {
        v: `${dataset}_view`,
      })) === 1 &&
      (await count(
        `SELECT count() AS n FROM monitor.deployments FINAL WHERE model = {m:String} AND outcome = 'failed'`,
        {
          m: model,
        },
      )) === 1 &&
      (await count(`SELECT count() AS n FROM monitor.labels FINAL WHERE dataset = {d:String}`, { d: dataset })) === 1 &&
      (await count(`SELECT count() AS n FROM monitor.data_quality FINAL WHERE dataset = {d:String}`, {
        d: dataset,
      })) === 1 &&
      (await count(`SELECT count() AS n FROM monitor.deployments FINAL WHERE model = {m:String}`, { m: model })) === 2,
    'labels, quality, deployments and the feature stream stored',
  );
  assert.equal(
    await count(`SELECT count() AS n FROM monitor.labels FINAL WHERE dataset = {d:String}`, {
      d: `${dataset}_features`,
    }),
    0,
    'records of feature datasets are not labels',
  );
  const [vector] = await (
    await clickhouse.query({
      query: `SELECT num_features, cat_features FROM monitor.feature_stream FINAL WHERE view_name = {v:String}`,
      format: 'JSONEachRow',
      query_params: { v: `${dataset}_view` },
    })
  ).json<{ num_features: Record<string, number>; cat_features: Record<string, string> }>();
  assert.deepEqual(vector, { num_features: { income: 50, active: 1 }, cat_features: { plan: 'basic' } });
});

test('drift after a population shift, none before: drift.detected events, then one training request with the lineage', async () => {
  const model = modelName('drift');
  const trained = await registerModel(model);
  await app.get(EvaluateModelsService).evaluateAll(new Date(BASE), [model]); // nothing yet
  const put = await fetch(
    `${base}/models/${model}/policy`,
    authorized({
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ window: { by: 'time', seconds: 60 }, training: { driftWindows: 1, cooldownSeconds: 0 } }),
    }),
  );
  assert.equal(put.status, 200);
  await producer.publishMany([
    ...predictions(model, BASE, 300, false, 1),
    ...predictions(model, BASE + MINUTE, 300, true, 2),
  ]);
  await eventually(async () => (await storedPredictions(model)) === 600, '600 predictions stored');

  const summary = await app.get(EvaluateModelsService).evaluateAll(new Date(BASE + 3 * MINUTE), [model]);
  assert.equal(summary.driftWindows, 2);
  assert.deepEqual(
    summary.trainingRequests.map((r) => [r.model, r.trigger]),
    [[model, 'drift']],
  );

  const drift = await readEvents<EventData<typeof EventTypes.DriftDetectedV1>>(
    EventTypes.DriftDetectedV1,
    model,
    (m) => m.length >= summary.driftEvents,
  );
  assert.ok(drift.length > 0);
  assert.ok(
    drift.every((d) => d.window.start === new Date(BASE + MINUTE).toISOString()),
    'only the shifted window',
  );
  const features = new Set(drift.filter((d) => d.kind === 'feature').map((d) => d.feature));
  assert.deepEqual([...features].sort(), ['income', 'plan']);
  assert.ok(drift.some((d) => d.kind === 'prediction'));
  const dataset = drift.find((d) => d.kind === 'dataset');
  assert.equal(dataset?.metric, 'drifted_share');
  assert.equal(dataset?.value, 2 / 3);

  const [request] = await readEvents<EventData<typeof EventTypes.TrainingRequestedV1>>(
    EventTypes.TrainingRequestedV1,
    model,
    (m) => m.length >= 1,
  );
  assert.equal(request?.reason.trigger, 'drift');
  assert.equal(typeof request?.reason.causeEventId, 'string', 'names the drift event that caused it');
  assert.deepEqual(request?.featureView, trained.lineage.featureView);
  assert.deepEqual(request?.labels, trained.lineage.labels);
  assert.equal(request?.task, trained.task);
  assert.equal(request?.requestedBy, 'monitor');

  // One request in flight: more drift asks for nothing until the trainer answers that run.
  await producer.publishMany(predictions(model, BASE + 2 * MINUTE, 300, true, 3));
  await eventually(async () => (await storedPredictions(model)) === 900, '900 predictions stored');
  const again = await app.get(EvaluateModelsService).evaluateAll(new Date(BASE + 4 * MINUTE), [model]);
  assert.equal(again.driftWindows, 1);
  assert.deepEqual(again.trainingRequests, []);
  await producer.publish(event('ModelTrainedV1', { ...trained, trainingRunId: request!.trainingRunId }));
  const store = app.get(MonitorStore);
  await eventually(
    async () => (await store.state(store.dataSource.manager, model))?.in_flight_run_id === null,
    'in-flight request cleared by model.trained of that run',
  );

  const json = (await (await fetch(`${base}/models/${model}/drift`, authorized())).json()) as {
    windows: Array<{
      windowStart: string;
      datasetDrifted: boolean;
      features: Array<{ feature: string; drifted: boolean }>;
    }>;
  };
  assert.deepEqual(
    json.windows.map((w) => w.datasetDrifted),
    [false, true, true],
  );
});

test('live accuracy under its floor sends model.degraded; performance per window over HTTP', async () => {
  const model = modelName('perf');
  const trained = await registerModel(model);
  const put = await fetch(
    `${base}/models/${model}/policy`,
    authorized({
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        window: { by: 'time', seconds: 60 },
        performance: { metric: 'accuracy', floor: 0.8, minLabeled: 5, labelHorizonSeconds: 60 },
        training: { driftWindows: 0, onDegradation: false },
      }),
    }),
  );
  assert.equal(put.status, 200);
  // 10 predictions: scores 0.9 for even entities, 0.1 for odd; labels: all positive -> accuracy 0.5.
  const events = Array.from({ length: 10 }, (_, i) =>
    prediction(model, BASE + i * 1000, { income: 50, debt: 20, plan: 'basic' }, i % 2 === 0 ? 0.9 : 0.1, `p-${i}`),
  );
  await producer.publishMany(events);
  const dataset = trained.lineage.labels.dataset;
  await producer.publishMany(
    events.map((_, i) =>
      event('DataValidatedV1', {
        dataset,
        datasetVersion: 1,
        role: 'labels',
        entityId: `p-${i}`,
        eventTime: new Date(BASE + i * 1000 + 5000).toISOString(),
        record: { customer_id: `p-${i}`, churned: true },
        sourceEventId: randomUUID(),
        validatedAt: new Date().toISOString(),
      }),
    ),
  );
  await eventually(
    async () =>
      (await storedPredictions(model)) === 10 &&
      (await count(`SELECT count() AS n FROM monitor.labels FINAL WHERE dataset = {d:String}`, { d: dataset })) === 10,
    'predictions and labels stored',
  );
  const summary = await app.get(EvaluateModelsService).evaluateAll(new Date(BASE + 3 * MINUTE), [model]);
  assert.equal(summary.degradedEvents, 1);
  const [degraded] = await readEvents<EventData<typeof EventTypes.ModelDegradedV1>>(
    EventTypes.ModelDegradedV1,
    model,
    (m) => m.length >= 1,
  );
  assert.equal(degraded?.metric, 'accuracy');
  assert.equal(degraded?.value, 0.5);
  assert.equal(degraded?.threshold, 0.8);
  assert.equal(degraded?.labeledCount, 10);
  assert.equal(degraded?.baselineValue, trained.metrics.accuracy);

  const json = (await (await fetch(`${base}/models/${model}/performance`, authorized())).json()) as {
    windows: Array<{ labeled: number; metrics: Record<string, number> }>;
  };
  assert.equal(json.windows.length, 1);
  assert.equal(json.windows[0]?.labeled, 10);
  assert.equal(json.windows[0]?.metrics.accuracy, 0.5);
  assert.equal(json.windows[0]?.metrics.recall, 0.5);
  assert.equal(json.windows[0]?.metrics.precision, 1);

  const page = await fetch(`${base}/models/${model}/report`, authorized());
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  assert.match(html, /data-series="accuracy v1 primary"/);
  assert.match(html, /data-threshold="floor 0.8"/);
});

test('/clickhouse answers a SELECT to @clickhouse/client and to a plain GET, read-only', async () => {
  const model = modelName('sql');
  await registerModel(model);
  const client = createClient({
    url: base,
    pathname: '/clickhouse',
    set_basic_auth_header: false,
    http_headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  try {
    const rows = await (
      await client.query({
        query: 'SELECT feature, kind FROM monitor.reference_distributions WHERE model = {m:String} ORDER BY feature',
        query_params: { m: model },
        format: 'JSONEachRow',
      })
    ).json<{ feature: string; kind: string }>();
    assert.deepEqual(
      rows.map((r) => r.feature),
      ['$prediction', 'debt', 'income', 'plan'],
    );
    await assert.rejects(client.command({ query: 'DROP TABLE monitor.predictions' }), /only SELECT/);
  } finally {
    await client.close();
  }
  const get = await fetch(
    `${base}/clickhouse?query=${encodeURIComponent(`SELECT count() FROM monitor.reference_distributions WHERE model = '${model}'`)}`,
    authorized(),
  );
  assert.equal(get.status, 200);
  assert.equal((await get.text()).trim(), '4');
  const fileRead = await fetch(
    `${base}/clickhouse?query=${encodeURIComponent("SELECT * FROM file('/etc/passwd', 'LineAsString')")}`,
    authorized(),
  );
  assert.equal(fileRead.status, 400);
  assert.match(await fileRead.text(), /readonly/i);
  const anonymous = await fetch(`${base}/clickhouse?query=SELECT%201`);
  assert.equal(anonymous.status, 401);
});

interface RenderedSeries {
  name: string;
  points: number;
  width: number;
}
interface RenderedCharts {
  drift: RenderedSeries[];
  performance: RenderedSeries[];
  thresholds: string[];
  rows: number;
}
/** Runs in the page (a string: this project's TypeScript has no DOM types): what the browser laid out. */
const READ_CHARTS = `(() => {
  const seriesOf = (chart) => [...document.querySelectorAll('#' + chart + ' polyline.series')].map((line) => ({
    name: line.getAttribute('data-series'),
    points: Number(line.getAttribute('data-points')),
    width: line.getBBox().width,
  }));
  return {
    drift: seriesOf('drift-chart'),
    performance: seriesOf('performance-chart'),
    thresholds: [...document.querySelectorAll('line.threshold')].map((l) => l.getAttribute('data-threshold')),
    rows: document.querySelectorAll('#latest-window tr.drifted').length,
  };
})()`;

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

test(
  'the report page renders its plots in headless Chromium: a drift series per feature, thresholds, the live metric',
  { skip: CHROMIUM === undefined ? 'no chromium here (apt-get install chromium)' : false },
  async () => {
    const model = modelName('page');
    const trained = await registerModel(model);
    const put = await fetch(
      `${base}/models/${model}/policy`,
      authorized({
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          window: { by: 'time', seconds: 60 },
          performance: { metric: 'accuracy', floor: 0.7, minLabeled: 5, labelHorizonSeconds: 60 },
        }),
      }),
    );
    assert.equal(put.status, 200);
    const sent = [...predictions(model, BASE, 100, false, 7), ...predictions(model, BASE + MINUTE, 100, true, 8)];
    await producer.publishMany(sent);
    await producer.publishMany(
      sent.map((p, i) =>
        event('DataValidatedV1', {
          dataset: trained.lineage.labels.dataset,
          datasetVersion: 1,
          role: 'labels',
          entityId: p.data.entityId,
          eventTime: new Date(Date.parse(p.data.timestamp) + 1000).toISOString(),
          record: { churned: i % 3 === 0 },
          sourceEventId: randomUUID(),
          validatedAt: new Date().toISOString(),
        }),
      ),
    );
    await eventually(async () => (await storedPredictions(model)) === 200, '200 predictions stored');
    await eventually(
      async () =>
        (await count(`SELECT count() AS n FROM monitor.labels FINAL WHERE dataset = {d:String}`, {
          d: trained.lineage.labels.dataset,
        })) === 200,
      '200 labels stored',
    );
    await app.get(EvaluateModelsService).evaluateAll(new Date(BASE + 4 * MINUTE), [model]);

    const browser = await launch({
      executablePath: CHROMIUM!,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      await page.setExtraHTTPHeaders({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
      const response = await page.goto(`${base}/models/${model}/report`, { waitUntil: 'load' });
      assert.equal(response?.status(), 200);
      const rendered = (await page.evaluate(READ_CHARTS)) as RenderedCharts;
      assert.deepEqual(rendered.drift.map((s) => s.name).sort(), [
        'debt (v1)',
        'income (v1)',
        'plan (v1)',
        'prediction (v1)',
      ]);
      assert.ok(
        rendered.drift.every((s) => s.points === 2 && s.width > 100),
        `each drift series is drawn over both windows: ${JSON.stringify(rendered.drift)}`,
      );
      assert.deepEqual(
        rendered.performance.map((s) => s.name),
        ['accuracy v1 primary'],
      );
      assert.ok(rendered.performance[0]!.width > 100);
      assert.deepEqual(rendered.thresholds.sort(), ['PSI 0.1', 'PSI 0.25', 'floor 0.7']);
      assert.ok(rendered.rows >= 2, 'the drifted features of the last window are marked');
    } finally {
      await browser.close();
    }
  },
);

test('a policy that is not one is a 400; drift of a model never registered is a 404', async () => {
  const model = modelName('http');
  const bad = await fetch(
    `${base}/models/${model}/policy`,
    authorized({
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ window: { by: 'time', seconds: 0 }, drift: { psi: 0.2 } }),
    }),
  );
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: string }).error, 'invalid_request');
  const missing = await fetch(`${base}/models/${model}/drift`, authorized());
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: string }).error, 'model_not_found');
  const report = await fetch(`${base}/models/${model}/report`, authorized());
  assert.equal(report.status, 404);
});

test('process samples on the prediction log give CPU seconds per 1,000 predictions over HTTP', async () => {
  const model = modelName('cost');
  await registerModel(model);
  const instanceId = `${model}-replica`;
  const sampled = [1.0, 1.0, 1.6, 1.6].map((cpuSeconds, i) => {
    const logged = prediction(model, BASE + (i + 1) * 1000, { income: 50, debt: 20, plan: 'basic' }, 0.3, `c-${i}`);
    return { ...logged, data: { ...logged.data, resources: { instanceId, cpuSeconds, rssBytes: 150e6 + i } } };
  });
  await producer.publishMany(sampled);
  await eventually(async () => (await storedPredictions(model)) === 4, 'predictions stored');
  const response = await fetch(`${base}/models/${model}/resources?windowSeconds=60`, authorized());
  assert.equal(response.status, 200);
  const body = (await response.json()) as {
    windowSeconds: number;
    windows: Array<{
      version: number;
      windowStart: string;
      predictions: number;
      cpuSecondsPer1000: number;
      maxRssBytes: number;
      instances: number;
    }>;
  };
  assert.equal(body.windowSeconds, 60);
  assert.equal(body.windows.length, 1);
  const [w] = body.windows;
  assert.deepEqual(
    [w!.version, w!.windowStart, w!.predictions, w!.maxRssBytes, w!.instances],
    [1, new Date(BASE).toISOString(), 4, 150e6 + 3, 1],
  );
  assert.ok(Math.abs(w!.cpuSecondsPer1000 - 150) < 1e-9, `0.6 s over 4 predictions: ${w!.cpuSecondsPer1000}`);
  const tooShort = await fetch(`${base}/models/${model}/resources?windowSeconds=5`, authorized());
  assert.equal(tooShort.status, 400);
  const missing = await fetch(`${base}/models/${modelName('none')}/resources`, authorized());
  assert.equal(missing.status, 404);
});
