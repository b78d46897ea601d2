// Helpers of the trainer service tests; the ones every integration test shares come from @mlops/testing.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '@mlops/config';
import { EventTypes } from '@mlops/contracts';
import { startGroupAtEnd } from '@mlops/messaging';
import { TEST_ADMIN_TOKEN, kafkaTestEnv, requireEnv, testKafka, uid } from '@mlops/testing';
import { type TrainerConfig, TrainerConfigSpec } from '../src/config';

/** A config against the real stack, with its own consumer group and artifact directory. */
export async function testConfig(
  overrides: Record<string, string> = {},
): Promise<{ config: TrainerConfig; artifactDir: string }> {
  const artifactDir = await mkdtemp(join(tmpdir(), 'trainer-artifacts-'));
  // Its own consumer group, starting at the end of the topics: another trainer process must not take our events.
  const group = uid('trainer-test');
  await startGroupAtEnd(testKafka('trainer-test'), group, [
    EventTypes.TrainingRequestedV1,
    EventTypes.DatasetSnapshotCreatedV1,
    EventTypes.ModelPromotedV1,
    EventTypes.AuthTokenChangedV1,
  ]);
  const config = loadConfig('trainer', TrainerConfigSpec, {
    ...kafkaTestEnv(),
    DATABASE_URL: requireEnv('DATABASE_URL'),
    LOG_LEVEL: 'error',
    CONSUMER_GROUP: group,
    ARTIFACT_STORE_URL: pathToFileURL(artifactDir).href,
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    TRAINING_POLL_MS: '200',
    CODE_VERSION: 'git:test',
    ...overrides,
  });
  return { config, artifactDir };
}

export interface SnapshotRow {
  entity_id: string;
  event_time: string;
  [feature: string]: string | number | boolean | null;
}

/**
 * A labelled set in feature-store's snapshot format: y = 1 when tenure is short and spend high, or the plan is
 * "basic"; 10% of spends missing.
 */
export function churnRows(count: number, seed = 1): SnapshotRow[] {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const plans = ['basic', 'premium', 'enterprise'];
  const start = Date.parse('2025-08-01T00:00:00Z');
  return Array.from({ length: count }, (_, i) => {
    const tenure = Math.floor(next() * 1000);
    const spend = next() < 0.1 ? null : Math.round(next() * 20000) / 100;
    const plan = plans[Math.floor(next() * 3)] as string;
    const churned = (tenure < 300 && (spend ?? 100) > 80) || (plan === 'basic' && next() < 0.7);
    return {
      entity_id: `customer-${i}`,
      event_time: new Date(start + i * 60_000).toISOString(),
      tenure_days: tenure,
      monthly_spend: spend,
      plan,
      churned,
    };
  });
}

export const CHURN_COLUMNS = [
  { name: 'entity_id', type: 'string', role: 'entity' },
  { name: 'event_time', type: 'string', role: 'event_time' },
  { name: 'tenure_days', type: 'number', role: 'feature' },
  { name: 'monthly_spend', type: 'number', role: 'feature' },
  { name: 'plan', type: 'string', role: 'feature' },
  { name: 'churned', type: 'boolean', role: 'label' },
] as const;

/** Bytes as feature-store's encodeSnapshot writes them: one JSON object per line, keys in column order. */
export function encodeRows(rows: readonly SnapshotRow[]): Buffer {
  return Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join(''), 'utf8');
}
