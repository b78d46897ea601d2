import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_ADMIN_TOKEN } from '@mlops/testing';

const ROOT = path.resolve(__dirname, '../../..');

/**
 * What `npm start` gives a service process: the brokers, its own Kafka user and Postgres role (from the stack.env
 * that `npm test` sources), and the test admin token.
 */
export function stackEnv(service: string): Record<string, string> {
  const prefix = service.toUpperCase().replace(/-/g, '_');
  const need = (key: string): string => {
    const value = process.env[key];
    if (!value) throw new Error(`${key} is not set: run the tests with \`npm test\`, which starts the stack`);
    return value;
  };
  return {
    KAFKA_BROKERS: need('KAFKA_BROKERS'),
    KAFKA_SASL_MECHANISM: need('KAFKA_SASL_MECHANISM'),
    KAFKA_SASL_USERNAME: need(`${prefix}_KAFKA_SASL_USERNAME`),
    KAFKA_SASL_PASSWORD: need(`${prefix}_KAFKA_SASL_PASSWORD`),
    DATABASE_URL: need(`${prefix}_DATABASE_URL`),
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  };
}

/** A service started as its own process (`node services/<name>/dist/src/main.js`), as `npm start` starts it. */
export interface ServiceProcess {
  readonly name: string;
  readonly base: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** The exit code, or the signal name when the process ended by a signal. */
  readonly exited: Promise<number | string | null>;
}

/**
 * Starts `service` on `port` with its stack credentials (stackEnv) and `env` on top (a key set to undefined is
 * left out); `name` labels its errors.
 */
export function startService(
  service: string,
  port: number,
  env: Record<string, string | undefined> = {},
  name: string = service,
): ServiceProcess {
  const merged: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...stackEnv(service),
    HTTP_PORT: String(port),
    LOG_LEVEL: 'warn',
    ...env,
  };
  const child = spawn(process.execPath, [path.join(ROOT, 'services', service, 'dist/src/main.js')], {
    env: Object.fromEntries(
      Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { name, base: `http://127.0.0.1:${port}`, child, output: () => output, exited };
}

/** Waits until the process answers /health/ready with 200; fails with its output when it exits or times out. */
export async function waitReady(service: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.child.exitCode !== null)
      throw new Error(`${service.name} exited with ${service.child.exitCode}:\n${service.output()}`);
    const res = await fetch(`${service.base}/health/ready`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${service.name} not ready in ${timeoutMs} ms:\n${service.output()}`);
    await sleep(250);
  }
}
