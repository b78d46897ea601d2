import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

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
