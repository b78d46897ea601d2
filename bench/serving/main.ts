/**
 * Serving: one gradient-boosted model, trained and exported by libs/ml, promoted as the registry would, served by
 * the deployer (its own processes, as in production), and measured against raw ONNX Runtime in this process:
 *   raw session.run single-row calls/s (the baseline) and rows/s at batch 1024;
 *   per HTTP adapter of the deployer (BENCH_ADAPTERS, default express,fastify: one deployer process each, all up at
 *   once, the rounds alternating between them so each sees the same load of the shared machine):
 *   HTTP single-row predict req/s, p50/p99, one client (prediction logging on);
 *   the same with 64 concurrent clients, micro-batching on, then off (second deployer processes);
 *   for reference, GET /health/live from one client (the HTTP stack's floor on this machine);
 *   batch scoring of a 100 000-row snapshot (BENCH_BATCH_ROWS) by a job, rows/s against raw runs of 1024 rows;
 *   for reference, the floor of the machine itself: a bare node:http server (a child process, no Nest, no auth, no
 *   model) answering the same single-row POSTs from the same client, 1 and 64 clients (phase floor).
 * Every figure is printed with its ratio to raw single-row calls/s. 127.0.0.1 only; each figure sums BENCH_ROUNDS
 * (default 3) windows of BENCH_SECONDS (default 5); BENCH_PHASES picks phases (floor, health, single, concurrent,
 * batch, off); BENCH_DEPLOYER_NODE_ARGS adds node flags to the deployers (a profiler); the whole run at most
 * BENCH_TIMEOUT_S (default 600).
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import * as ort from 'onnxruntime-node';
import { Registry } from 'prom-client';
import { LocalArtifactStore } from '@mlops/artifacts';
import { kafkaKeys, kafkaSecurity, loadConfig } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';
import { EventProducer, MessagingMetrics, newEvent, startGroupAtEnd } from '@mlops/messaging';
import { type RawTable, exportOnnx, trainPipeline } from '@mlops/ml';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 600) * 1000;
const CONCURRENCY = 64;
/** Linux's USER_HZ: /proc reports CPU time in these. */
const CLOCK_TICKS = 100;
/**
 * The deployer's HTTP adapters to measure, each in its own processes, in this order (HTTP_ADAPTER). An entry
 * `label=adapter@/path/to/main.js` runs another build of the deployer under that label (an A/B of two builds, their
 * rounds alternating like the adapters'); `%KEY=value` suffixes set that deployer's config (an A/B of a setting:
 * `in-thread=fastify%PREDICTION_LOG_WORKER=false,worker=fastify`).
 */
const ADAPTERS = (process.env.BENCH_ADAPTERS ?? 'express,fastify').split(',').filter((a) => a !== '');
/** How a figure names a deployer: its adapter, or the label of its build. */
const labelOf = (entry: string): string => entry.split('=')[0] as string;
/** Phases to run (all by default): floor, health, single, concurrent, batch (micro-batching on), off (micro-batching off). */
/** Rounds per figure, alternating the adapters (BENCH_SECONDS each). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PHASES = new Set((process.env.BENCH_PHASES ?? 'floor,health,single,concurrent,batch,off').split(','));
const run = randomUUID().slice(0, 8);
const MODEL = `bench-serving-${run}`;
const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

function table(rows: number, seed: number): { table: RawTable; labels: Float64Array } {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const plans = ['basic', 'premium', 'enterprise'];
  const tenure = new Float64Array(rows);
  const spend = new Float64Array(rows);
  const tickets = new Float64Array(rows);
  const plan: (string | null)[] = [];
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    tenure[i] = Math.floor(next() * 1000);
    spend[i] = next() < 0.1 ? Number.NaN : Math.round(next() * 20000) / 100;
    tickets[i] = Math.floor(next() * 6);
    plan.push(plans[Math.floor(next() * 3)] as string);
    const signal =
      (tenure[i]! < 300 ? 1 : 0) + (spend[i]! > 80 ? 0.5 : 0) + tickets[i]! * 0.3 + (plan[i] === 'basic' ? 0.7 : 0);
    labels[i] = signal + next() > 1.5 ? 1 : 0;
  }
  return {
    table: {
      rows,
      columns: [
        { name: 'tenure_days', kind: 'numeric', values: tenure },
        { name: 'monthly_spend', kind: 'numeric', values: spend },
        { name: 'support_tickets', kind: 'numeric', values: tickets },
        { name: 'plan', kind: 'categorical', values: plan },
      ],
    },
    labels,
  };
}

function rowFeatures(i: number): Record<string, number | string | null> {
  return {
    tenure_days: (i * 37) % 1000,
    monthly_spend: i % 10 === 0 ? null : (i * 13) % 200,
    support_tickets: i % 6,
    plan: ['basic', 'premium', 'enterprise'][i % 3] as string,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function feedsOf(rows: number, offset: number): Record<string, ort.Tensor> {
  const numeric = new Float32Array(rows * 3);
  const plans: string[] = [];
  for (let r = 0; r < rows; r++) {
    const f = rowFeatures(offset + r);
    numeric[r * 3] = f.tenure_days as number;
    numeric[r * 3 + 1] = (f.monthly_spend as number | null) ?? Number.NaN;
    numeric[r * 3 + 2] = f.support_tickets as number;
    plans.push(f.plan as string);
  }
  return { features: new ort.Tensor('float32', numeric, [rows, 3]), plan: new ort.Tensor('string', plans, [rows, 1]) };
}

/** Raw in-process session.run: calls/s (and rows/s) over `seconds`. */
async function rawRuns(session: ort.InferenceSession, rows: number): Promise<{ callsPerS: number; rowsPerS: number }> {
  const feeds = Array.from({ length: 16 }, (_, i) => feedsOf(rows, i * rows));
  for (let i = 0; i < 50; i++) await session.run(feeds[i % 16]!);
  let calls = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  while (performance.now() < until) {
    await session.run(feeds[calls % 16]!);
    calls++;
  }
  const seconds = (performance.now() - started) / 1000;
  return { callsPerS: calls / seconds, rowsPerS: (calls * rows) / seconds };
}

/** What `run` gives, and the CPU seconds the process used meanwhile (all its threads, its main thread) if /proc tells. */
async function cpuDuring<T>(
  pid: number | undefined,
  run: () => Promise<T>,
): Promise<{ value: T; cpu: { process: number; main: number } | undefined }> {
  const before = cpuOf(pid);
  const value = await run();
  const after = cpuOf(pid);
  const cpu = before && after ? { process: after.process - before.process, main: after.main - before.main } : undefined;
  return { value, cpu };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A server under load: its process and port. */
interface Server {
  child: ChildProcess;
  port: number;
}

interface Load {
  requests: number;
  errors: number;
  reqPerS: number;
  p50: number;
  p99: number;
  /** The server's CPU microseconds per request, all threads and main thread (when /proc tells). */
  cpuPerRequest?: { process: number; main: number };
}

/** One measured window: every request's latency, the non-200 answers, the window's length. */
interface Sample {
  latencies: number[];
  errors: number;
  seconds: number;
  /** CPU seconds the server process used in the window: all its threads, and its main thread alone (Linux). */
  cpu?: { process: number; main: number };
}

/** CPU seconds (user + system) of a process and of its main thread so far, from /proc; undefined elsewhere. */
function cpuOf(pid: number | undefined): { process: number; main: number } | undefined {
  if (pid === undefined) return undefined;
  const ticks = (file: string): number => {
    // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th of them.
    const fields = readFileSync(file, 'latin1')
      .slice(readFileSync(file, 'latin1').lastIndexOf(')') + 2)
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  };
  try {
    return { process: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return undefined;
  }
}

/** The windows of one figure (several rounds) as one: requests over their summed time, percentiles over all. */
function loadOf(samples: readonly Sample[]): Load {
  const latencies = samples.flatMap((sample) => sample.latencies).sort((a, b) => a - b);
  const seconds = samples.reduce((sum, sample) => sum + sample.seconds, 0);
  const cpu = samples.every((sample) => sample.cpu !== undefined)
    ? samples.reduce(
        (sum, sample) => ({ process: sum.process + sample.cpu!.process, main: sum.main + sample.cpu!.main }),
        { process: 0, main: 0 },
      )
    : undefined;
  return {
    ...(cpu
      ? {
          cpuPerRequest: { process: (cpu.process * 1e6) / latencies.length, main: (cpu.main * 1e6) / latencies.length },
        }
      : {}),
    requests: latencies.length,
    errors: samples.reduce((sum, sample) => sum + sample.errors, 0),
    reqPerS: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/**
 * `clients` keep-alive connections, each sending single-row predicts one after another for `seconds`: a lean load
 * generator (as wrk or autocannon are) writing prebuilt requests to raw sockets and reading only the status line and
 * the body's length, so the client's own cost stays small next to the server's.
 */
async function httpLoad(port: number, clients: number, probe = false): Promise<Sample> {
  const requests = Array.from({ length: 256 }, (_, i) => {
    const body = probe ? '' : JSON.stringify({ features: rowFeatures(i) });
    return Buffer.from(
      `${probe ? 'GET /health/live' : `POST /models/${MODEL}/predict`} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `authorization: Bearer ${ADMIN_TOKEN}\r\n\r\n${body}`,
    );
  });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let until = Number.POSITIVE_INFINITY;
  /** One connection: sends request after request until `until`, resolves once its last answer is in. */
  const connection = (c: number, warmups: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: '127.0.0.1', port, noDelay: true });
      let i = c;
      let pending: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let left = warmups;
      const send = (): void => {
        sentAt = performance.now();
        socket.write(requests[i++ % 256]!);
      };
      socket.on('connect', send);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        for (;;) {
          const headEnd = pending.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = pending.subarray(0, headEnd).toString('latin1');
          const length = /\r\ncontent-length: *(\d+)/i.exec(head);
          // A chunked answer ends with its empty last chunk.
          const end = length === null ? pending.indexOf('\r\n0\r\n\r\n', headEnd) + 7 : headEnd + 4 + Number(length[1]);
          if (end === 6) return;
          if (pending.length < end) return;
          pending = pending.subarray(end);
          if (measuring && left === 0) {
            latencies.push(performance.now() - sentAt);
            if (head.slice(9, 12) !== '200') errors++;
          } else if (left > 0) left--;
          if ((left > 0 || measuring) && performance.now() < until) send();
          else {
            socket.end();
            resolve();
          }
        }
      });
    });
  // Warm the connections and the JIT: a few requests each, then the measured window.
  await Promise.all(Array.from({ length: clients }, (_, c) => connection(c, 20)));
  measuring = true;
  const started = performance.now();
  until = started + SECONDS * 1000;
  await Promise.all(Array.from({ length: clients }, (_, c) => connection(c, 0)));
  const seconds = (performance.now() - started) / 1000;
  return { latencies, errors, seconds };
}

async function startDeployer(
  port: number,
  artifactUrl: string,
  microBatching: boolean,
  since: string,
  adapter: string,
  kafka: Kafka,
): Promise<ChildProcess> {
  const [build = adapter, ...settings] = (
    adapter.includes('=') ? adapter.slice(adapter.indexOf('=') + 1) : adapter
  ).split('%');
  const [kind = build, main = path.resolve('services/deployer/dist/src/main.js')] = build.split('@');
  // `%KEY=value` after the build: settings of that deployer only (an A/B of one setting).
  const overrides = Object.fromEntries(
    settings.map((setting) => [setting.slice(0, setting.indexOf('=')), setting.slice(setting.indexOf('=') + 1)]),
  );
  // BENCH_DEPLOYER_NODE_ARGS: extra node flags for the deployer processes, e.g. a profiler preload (--require ...).
  const nodeArgs = (process.env.BENCH_DEPLOYER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  // A new group reads the stream from its start: the deployer would score, during the measured windows, every
  // streaming request earlier runs and tests left on the broker. It starts at the stream's end instead.
  const group = `bench-deployer-${run}-${port}`;
  await startGroupAtEnd(kafka, group, [EventTypes.PredictionRequestedV1]);
  const child = spawn(process.execPath, [...nodeArgs, main], {
    env: {
      ...process.env,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
      AUTH_ADMIN_TOKEN: ADMIN_TOKEN,
      CONSUMER_GROUP: group,
      ARTIFACT_STORE_URL: artifactUrl,
      REPLAY_SINCE: since,
      MICRO_BATCHING: String(microBatching),
      HTTP_ADAPTER: kind,
      ...overrides,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`deployer exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/models/${MODEL}/ready`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      if (res.status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the deployer did not serve the model within 90 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The machine's floor: a bare node:http server answering every request with a small JSON body once it read it. */
async function startFloorServer(port: number): Promise<ChildProcess> {
  const script = `require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 18 }); res.end('{"prediction":0.5}'); }); })
    .listen(${port}, '127.0.0.1', () => process.send('listening'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the floor server exited with ${code}`)));
  });
  return child;
}

async function stopDeployer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A snapshot of BATCH_ROWS rows scored by a batch job: rows/s from the POST to the job's end. */
async function batchScoring(port: number, store: LocalArtifactStore): Promise<{ rows: number; rowsPerS: number }> {
  const rows = Number(process.env.BENCH_BATCH_ROWS ?? 100_000);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++)
    lines.push(JSON.stringify({ entity_id: `c-${i}`, event_time: null, ...rowFeatures(i) }));
  const snapshot = await store.put(Buffer.from(`${lines.join('\n')}\n`), { mediaType: 'application/x-ndjson' });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/models/${MODEL}/versions/1/batch-scores`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ snapshotUri: snapshot.uri, snapshotSha256: snapshot.sha256 }),
  });
  const job = (await res.json()) as { id: string };
  for (;;) {
    const state = (await (await fetch(`http://127.0.0.1:${port}/batch-scores/${job.id}`, { headers })).json()) as {
      status: string;
      error: unknown;
    };
    if (state.status === 'succeeded') break;
    if (state.status !== 'running') throw new Error(`batch scoring failed: ${JSON.stringify(state.error)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { rows, rowsPerS: rows / ((performance.now() - started) / 1000) };
}

function line(name: string, value: number, unit: string, raw: number, extra = ''): void {
  console.log(
    `${name.padEnd(62)} ${value.toFixed(0).padStart(9)} ${unit.padEnd(8)} ${(value / raw).toFixed(2).padStart(6)}x raw${extra}`,
  );
}

async function main(): Promise<void> {
  const timer = setTimeout(() => {
    console.error(`bench/serving: over ${TIMEOUT_MS / 1000} s, stopping`);
    process.exit(2);
  }, TIMEOUT_MS);
  timer.unref();
  const since = new Date(Date.now() - 1_000).toISOString();
  const { table: data, labels } = table(4_000, 7);
  const { model } = trainPipeline(data, labels, 'binary', 'gradient_boosting', { iterations: 100, maxDepth: 6 }, 7);
  const exported = exportOnnx(model, { modelName: MODEL, producerVersion: 'bench' });
  const artifactDir = mkdtempSync(path.join(tmpdir(), 'bench-serving-'));
  const store = new LocalArtifactStore(artifactDir);
  const stored = await store.put(exported.bytes, { mediaType: 'application/onnx' });
  console.log(
    `model: gradient boosting, 100 trees of depth <= 6, 3 numeric + 1 categorical features, ${exported.bytes.length} bytes`,
  );

  const session = await ort.InferenceSession.create(exported.bytes, SESSION_OPTIONS);
  const raw = await rawRuns(session, 1);
  const rawBatch = await rawRuns(session, 1024);
  await session.release();

  const connection = loadConfig('bench-serving', kafkaKeys);
  const kafka = new Kafka({
    clientId: 'bench-serving',
    brokers: connection.KAFKA_BROKERS,
    ...kafkaSecurity(connection, 'bench-serving'),
    logLevel: logLevel.ERROR,
  });
  const producer = new EventProducer({ kafka, metrics: MessagingMetrics.for(new Registry()) });
  await producer.connect();
  await producer.publish(
    newEvent(
      EventTypes.ModelPromotedV1,
      {
        model: MODEL,
        alias: 'production',
        version: 1,
        previousVersion: null,
        trigger: 'manual',
        reason: 'bench/serving',
        gate: null,
        artifact: { uri: stored.uri, sha256: stored.sha256, format: 'onnx', sizeBytes: stored.sizeBytes },
        signature: {
          inputName: exported.signature.inputName,
          inputDtype: exported.signature.inputDtype,
          featureNames: [...exported.signature.featureNames],
          outputName: exported.signature.outputName,
        },
        featureView: { name: 'bench_features', version: 1 },
        promotedBy: 'bench',
        promotedAt: new Date().toISOString(),
      },
      { source: 'urn:mlops:bench' },
    ),
  );
  await producer.disconnect();

  const artifactUrl = pathToFileURL(artifactDir).href;
  const samples = new Map<string, Sample[]>();
  const measure = async (name: string, server: Server, clients: number, probe = false): Promise<void> => {
    const { value: sample, cpu } = await cpuDuring(server.child.pid, () => httpLoad(server.port, clients, probe));
    if (cpu) sample.cpu = cpu;
    samples.set(name, [...(samples.get(name) ?? []), sample]);
  };
  const batches: {
    adapter: string;
    rows: number;
    rowsPerS: number;
    cpu?: { process: number; main: number } | undefined;
  }[] = [];
  // Every adapter's deployer runs at once and the rounds alternate between them, so each sees the same load of
  // the (shared) machine; each figure sums its rounds.
  const orderOf = (round: number): string[] => (round % 2 === 0 ? ADAPTERS : [...ADAPTERS].reverse());
  if (PHASES.has('floor')) {
    const port = await freePort();
    const floor = { child: await startFloorServer(port), port };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await measure('[floor] bare node:http server, single-row POST, 1 client', floor, 1);
        await measure(`[floor] bare node:http server, single-row POST, ${CONCURRENCY} clients`, floor, CONCURRENCY);
      }
    } finally {
      await stopDeployer(floor.child);
    }
  }
  if (['health', 'single', 'concurrent', 'batch'].some((phase) => PHASES.has(phase))) {
    const deployers = new Map<string, Server>();
    try {
      for (const adapter of ADAPTERS) {
        const port = await freePort();
        deployers.set(adapter, { child: await startDeployer(port, artifactUrl, true, since, adapter, kafka), port });
      }
      for (let round = 0; round < ROUNDS; round++)
        for (const adapter of orderOf(round)) {
          const server = deployers.get(adapter) as Server;
          // The floor of the HTTP stack itself (Nest on the adapter, no auth, no model), for reference.
          if (PHASES.has('health'))
            await measure(`[${labelOf(adapter)}] HTTP GET /health/live, 1 client (reference)`, server, 1, true);
          if (PHASES.has('single'))
            await measure(`[${labelOf(adapter)}] HTTP single-row, 1 client (logging on)`, server, 1);
          if (PHASES.has('concurrent'))
            await measure(
              `[${labelOf(adapter)}] HTTP single-row, ${CONCURRENCY} clients, micro-batching on`,
              server,
              CONCURRENCY,
            );
          if (PHASES.has('batch')) {
            const { value: job, cpu } = await cpuDuring(server.child.pid, () => batchScoring(server.port, store));
            batches.push({ adapter, ...job, cpu });
          }
        }
    } finally {
      for (const { child } of deployers.values()) await stopDeployer(child);
    }
  }
  if (PHASES.has('off')) {
    const deployers = new Map<string, Server>();
    try {
      for (const adapter of ADAPTERS) {
        const port = await freePort();
        deployers.set(adapter, { child: await startDeployer(port, artifactUrl, false, since, adapter, kafka), port });
      }
      for (let round = 0; round < ROUNDS; round++)
        for (const adapter of orderOf(round)) {
          const server = deployers.get(adapter) as Server;
          await measure(
            `[${labelOf(adapter)}] HTTP single-row, ${CONCURRENCY} clients, micro-batching off`,
            server,
            CONCURRENCY,
          );
        }
    } finally {
      for (const { child } of deployers.values()) await stopDeployer(child);
    }
  }
  const results = [...samples.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, windows]) => ({ name, load: loadOf(windows) }));

  console.log(
    `\nbench/serving (${ROUNDS} rounds x ${SECONDS} s per figure, adapters alternating, 2 cores shared; ratios to raw single-row session.run; load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')} at the end)`,
  );
  line('raw session.run, 1 row per call', raw.callsPerS, 'calls/s', raw.callsPerS);
  line('raw session.run, 1024 rows per call', rawBatch.rowsPerS, 'rows/s', raw.callsPerS);
  const batchFigures = ADAPTERS.flatMap((adapter) => {
    const jobs = batches.filter((batch) => batch.adapter === adapter);
    if (jobs.length === 0) return [];
    const rows = jobs.reduce((sum, job) => sum + job.rows, 0);
    const seconds = jobs.reduce((sum, job) => sum + job.rows / job.rowsPerS, 0);
    const cpu = jobs.every((job) => job.cpu !== undefined)
      ? {
          process: jobs.reduce((sum, job) => sum + job.cpu!.process, 0),
          main: jobs.reduce((sum, job) => sum + job.cpu!.main, 0),
        }
      : undefined;
    return [{ adapter, rows, rowsPerS: rows / seconds, cpu }];
  });
  for (const batch of batchFigures)
    console.log(
      `${`[${labelOf(batch.adapter)}] batch scoring (job over HTTP, chunks of 1024)`.padEnd(62)} ${batch.rowsPerS.toFixed(0).padStart(9)} rows/s   ${(batch.rowsPerS / rawBatch.rowsPerS).toFixed(2).padStart(6)}x raw batched (${batch.rows} rows in ${ROUNDS} jobs)${
        batch.cpu
          ? `; deployer CPU ${((batch.cpu.process * 1e6) / batch.rows).toFixed(2)} µs/row, its main thread ${((batch.cpu.main * 1e6) / batch.rows).toFixed(2)} µs/row (raw session.run ${(1e6 / rawBatch.rowsPerS).toFixed(2)} µs/row)`
          : ''
      }`,
    );
  for (const { name, load } of results)
    line(
      name,
      load.reqPerS,
      'req/s',
      raw.callsPerS,
      `   p50 ${load.p50.toFixed(2)} ms  p99 ${load.p99.toFixed(2)} ms  (${load.requests} requests, ${load.errors} errors)${
        load.cpuPerRequest
          ? `  server CPU ${load.cpuPerRequest.process.toFixed(0)} µs/req (main thread ${load.cpuPerRequest.main.toFixed(0)})`
          : ''
      }`,
    );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
