// Helpers of the registry service tests; the ones every integration test shares come from @mlops/testing.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '@mlops/config';
import { EventTypes, type ModelDegradedV1, type ModelTrainedV1 } from '@mlops/contracts';
import { startGroupAtEnd } from '@mlops/messaging';
import { TEST_ADMIN_TOKEN, kafkaTestEnv, requireEnv, testKafka, uid } from '@mlops/testing';
import { type RegistryConfig, RegistryConfigSpec } from '../src/config';

/** A config against the real stack, with its own consumer group and artifact directory. */
export async function testConfig(
  overrides: Record<string, string> = {},
): Promise<{ config: RegistryConfig; artifactDir: string }> {
  const artifactDir = await mkdtemp(join(tmpdir(), 'registry-artifacts-'));
  // Its own consumer group, starting at the end of the topics: another registry process must not take our events.
  const group = uid('registry-test');
  await startGroupAtEnd(testKafka('registry-test'), group, [
    EventTypes.ModelTrainedV1,
    EventTypes.ModelDegradedV1,
    EventTypes.DeploymentSucceededV1,
    EventTypes.DeploymentFailedV1,
    EventTypes.AuthTokenChangedV1,
  ]);
  const config = loadConfig('registry', RegistryConfigSpec, {
    ...kafkaTestEnv(),
    DATABASE_URL: requireEnv('DATABASE_URL'),
    LOG_LEVEL: 'error',
    CONSUMER_GROUP: group,
    ARTIFACT_STORE_URL: pathToFileURL(artifactDir).href,
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    REGISTRY_MAX_UPLOAD_BYTES: String(256 * 1024),
    ...overrides,
  });
  return { config, artifactDir };
}

const hex = (seed: string): string => Buffer.from(seed.padEnd(32, '0').slice(0, 32)).toString('hex');

/** A model.trained event as the trainer sends it, with the given holdout metrics. */
export function trainedEvent(
  model: string,
  metrics: Record<string, number>,
  overrides: Partial<ModelTrainedV1> = {},
): ModelTrainedV1 {
  const runId = randomUUID();
  const sha = hex(runId);
  return {
    trainingRunId: runId,
    model,
    task: 'binary_classification',
    algorithm: 'gradient_boosting',
    artifact: {
      uri: `file:///tmp/registry-test/sha256/${sha.slice(0, 2)}/${sha}`,
      sha256: sha,
      format: 'onnx',
      sizeBytes: 1234,
    },
    signature: {
      inputName: 'features',
      inputDtype: 'float32',
      featureNames: ['tenure_days', 'monthly_spend'],
      outputName: 'score',
      inputs: [
        { name: 'features', dtype: 'float32', features: ['tenure_days', 'monthly_spend'] },
        { name: 'plan', dtype: 'string', features: ['plan'] },
      ],
      outputs: [
        { name: 'score', dtype: 'float32', shape: [-1, 1] },
        { name: 'label', dtype: 'int64', shape: [-1] },
        { name: 'probabilities', dtype: 'float32', shape: [-1, 2] },
      ],
    },
    metrics,
    params: { iterations: 20, seed: 3 },
    lineage: {
      snapshotId: randomUUID(),
      snapshotUri: `file:///tmp/registry-test/sha256/ab/${hex(`snap-${runId}`)}`,
      snapshotSha256: hex(`snap-${runId}`),
      codeVersion: 'git:test',
      featureView: { name: 'customer_features', version: 1 },
      labels: { dataset: 'churn_labels', field: 'churned' },
      trainingWindow: { start: '2025-08-01T00:00:00Z', end: '2025-11-01T00:00:00Z' },
      rows: { training: 800, holdout: 200 },
      datasetVersions: {
        features: { dataset: 'customer_activity', version: 3 },
        labels: { dataset: 'churn_labels', version: 1 },
      },
    },
    referenceDistributions: {
      tenure_days: { kind: 'numeric', binEdges: [0, 500, 1000], counts: [400, 400], nullCount: 0 },
    },
    trainedAt: new Date().toISOString(),
    durationMs: 1000,
    ...overrides,
  };
}

export function degradedEvent(model: string, version: number, alias = 'production'): ModelDegradedV1 {
  return {
    model,
    alias,
    version,
    metric: 'auc',
    value: 0.6,
    threshold: 0.75,
    higherIsBetter: true,
    baselineValue: 0.85,
    window: { start: '2025-11-21T00:00:00Z', end: '2025-11-22T00:00:00Z' },
    labeledCount: 500,
    detectedAt: new Date().toISOString(),
  };
}
