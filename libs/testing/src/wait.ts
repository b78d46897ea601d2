import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ConfigOf, type KafkaSecurity, kafkaKeys, kafkaSecurity, loadConfig } from '@mlops/config';

/** A variable the stack sets; integration tests refuse to run without it rather than skip silently. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run the tests with \`npm test\`, or source .data/stack.env after infra/stack.sh up`,
    );
  return value;
}

export const kafkaBrokers = (): string[] => requireEnv('KAFKA_BROKERS').split(',');

/**
 * SASL/TLS of the test clients from the environment (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
 * KAFKA_SASL_PASSWORD, KAFKA_SSL): stack.env gives the tests the provisioner user, which may create topics
 * and consumer groups.
 */
export function kafkaTestSecurity(): KafkaSecurity {
  return kafkaSecurity(kafkaTestConnection(), 'tests');
}

/** The Kafka keys (brokers, SASL, TLS) of the stack, parsed: for a config object built by hand. */
export function kafkaTestConnection(): ConfigOf<typeof kafkaKeys> {
  return loadConfig('tests', kafkaKeys, kafkaTestEnv());
}

/** The Kafka keys of the stack as environment strings: for a service config under test read with loadConfig. */
export function kafkaTestEnv(): Record<string, string> {
  requireEnv('KAFKA_BROKERS');
  return Object.fromEntries(
    Object.keys(kafkaKeys).flatMap((key) => (process.env[key] ? [[key, process.env[key] ?? '']] : [])),
  );
}
export const databaseUrl = (): string => requireEnv('DATABASE_URL');

/** A name no other test run uses: `<prefix>-<8 hex digits>`. */
export function uid(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Polls `probe` until it returns something other than undefined or false, and returns that. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
