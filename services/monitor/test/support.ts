// Helpers of the monitor service tests; the ones every integration test shares come from @mlops/testing.
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@mlops/config';
import { EventTypes, type ModelRegisteredV1, type ModelTrainedV1 } from '@mlops/contracts';
import { startGroupAtEnd } from '@mlops/messaging';
import { TEST_ADMIN_TOKEN, kafkaTestEnv, requireEnv, testKafka, uid } from '@mlops/testing';
import { type MonitorConfig, MonitorConfigSpec } from '../src/config';

export { eventually } from '@mlops/testing';

/** A config against the real stack: its own consumer group from the end of the topics, its own chdb directory, no loop. */
export async function testConfig(
  overrides: Record<string, string> = {},
): Promise<{ config: MonitorConfig; clickhouseDir: string }> {
  const clickhouseDir = await mkdtemp(join(tmpdir(), 'monitor-chdb-'));
  const group = uid('monitor-test');
  await startGroupAtEnd(testKafka('monitor-test'), group, [
    EventTypes.PredictionLoggedV1,
    EventTypes.FeaturesMaterializedV1,
    EventTypes.DataValidatedV1,
    EventTypes.DataQualityV1,
    EventTypes.DeploymentSucceededV1,
    EventTypes.DeploymentFailedV1,
    EventTypes.ModelPromotedV1,
    EventTypes.ModelTrainedV1,
    EventTypes.ModelRegisteredV1,
    EventTypes.TrainingFailedV1,
    EventTypes.AuthTokenChangedV1,
  ]);
  const config = loadConfig('monitor', MonitorConfigSpec, {
    ...kafkaTestEnv(),
    DATABASE_URL: requireEnv('DATABASE_URL'),
    LOG_LEVEL: 'error',
    AUTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    CONSUMER_GROUP: group,
    CLICKHOUSE_DATA_DIR: clickhouseDir,
    MONITOR_EVALUATE_INTERVAL_MS: '0',
    ...overrides,
  });
  return { config, clickhouseDir };
}

/** A lowercase model name of its own per test. */
export function modelName(prefix: string): string {
  return `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}

const schemaExample = <T>(type: string): T =>
  (JSON.parse(readFileSync(join(__dirname, '../../../../schemas', `${type}.json`), 'utf8')) as { examples: T[] })
    .examples[0]!;

/** A trained event of the schema's example, for `model`, with the given references. */
export function trainedData(
  model: string,
  references: ModelTrainedV1['referenceDistributions'],
  prediction: ModelTrainedV1['predictionDistribution'],
  labels = { dataset: `${model}_labels`.replace(/-/g, '_'), field: 'churned' },
): ModelTrainedV1 {
  const example = schemaExample<ModelTrainedV1>(EventTypes.ModelTrainedV1);
  return {
    ...example,
    trainingRunId: randomUUID(),
    model,
    signature: { ...example.signature, featureNames: Object.keys(references) },
    lineage: { ...example.lineage, labels },
    referenceDistributions: references,
    ...(prediction ? { predictionDistribution: prediction } : {}),
    trainedAt: new Date().toISOString(),
  };
}

/** The registry's answer to a trained event: version N of it. */
export function registeredData(trained: ModelTrainedV1, version: number): ModelRegisteredV1 {
  // What model.trained carries and model.registered does not (the registry keeps them on the version).
  const {
    trainedAt: _trainedAt,
    durationMs: _durationMs,
    champion: _champion,
    slices: _slices,
    referenceSample: _referenceSample,
    ...rest
  } = trained;
  const signature = {
    inputName: trained.signature.inputName,
    inputDtype: trained.signature.inputDtype,
    featureNames: trained.signature.featureNames,
    outputName: trained.signature.outputName,
  };
  return { ...rest, signature, version, registeredAt: new Date().toISOString() };
}
