import { artifactKeys } from '@mlops/artifacts';
import { authKeys } from '@mlops/auth';
import { type ConfigOf, bool, int, oneOf, postgresKeys, serviceKeys, str } from '@mlops/config';

/** Every key the deployer service reads; validated at start. */
export const DeployerConfigSpec = {
  ...serviceKeys(3005),
  ...postgresKeys,
  ...authKeys,
  ...artifactKeys,
  HTTP_ADAPTER: oneOf(['fastify', 'express'], {
    description:
      'HTTP server under Nest: fastify (measured faster by bench/serving) or express (what the other services run)',
    default: 'fastify',
  }),
  INSTANCE_ID: str({
    description:
      'Name of this replica in deployment events and of its own replay consumer groups; a random id per start when absent',
    optional: true,
  }),
  REPLAY_SINCE: str({
    description:
      'Read the promoted and materialized topics from this ISO-8601 time instead of their beginning (tests on a long-lived stack)',
    optional: true,
  }),
  PREDICT_MAX_BATCH: int({
    description: 'Most rows (instances) in one predict or infer request',
    default: 1_000,
    min: 1,
  }),
  MICRO_BATCHING: bool({
    description: 'Coalesce concurrent requests for the same model version into one ONNX Runtime run',
    default: true,
  }),
  MICRO_BATCH_MAX_WAIT_MS: int({
    description:
      'How long the first request of a coalesced batch waits for others; 0 coalesces what arrives in the same event-loop turn (and while a run is in progress)',
    default: 0,
    min: 0,
    max: 100,
  }),
  MICRO_BATCH_MAX_ROWS: int({ description: 'Most rows in one coalesced run', default: 256, min: 1 }),
  PREDICTION_LOG: bool({ description: 'Log every prediction as mlops.prediction.logged.v1', default: true }),
  PREDICTION_LOG_BUFFER: int({
    description:
      'Most predictions waiting to be logged (Kafka slow or down); beyond it new ones are dropped and counted',
    default: 50_000,
    min: 1,
  }),
  PREDICTION_LOG_BATCH: int({ description: 'Most predictions sent to Kafka in one request', default: 1_000, min: 1 }),
  PREDICTION_LOG_WORKER: bool({
    description:
      'Send the prediction log from a worker thread with its own Kafka producer (off the thread that answers requests)',
    default: true,
  }),
  PREDICTION_LOG_CONTENT_MODE: oneOf(['binary', 'structured'], {
    description:
      'CloudEvents content mode of the prediction log (with PREDICTION_LOG_WORKER): binary (ce_* headers, as every event of the platform) or structured (one JSON envelope and one header: kafkajs encodes a record in about half the time; consumers read both)',
    default: 'binary',
  }),
  PREDICTION_LOG_FLUSH_MS: int({ description: 'How often buffered predictions are sent', default: 20, min: 1 }),
  CANARY_PERCENT: int({
    description:
      'Share (%) of the production traffic a version promoted to the "canary" alias answers, sticky per entity',
    default: 10,
    min: 0,
    max: 100,
  }),
  CANARY_MAX_ERROR_PERCENT: int({
    description:
      'Automatic canary rollback: largest share (%) of failed requests (inference failures) among its latest CANARY_WINDOW_REQUESTS',
    default: 5,
    min: 0,
    max: 100,
  }),
  CANARY_MAX_P99_MS: int({
    description:
      'Automatic canary rollback: largest p99 latency (ms) of its latest CANARY_WINDOW_REQUESTS answered requests',
    default: 500,
    min: 0,
  }),
  CANARY_MIN_REQUESTS: int({
    description: 'Requests a canary must have seen before its error rate and latency are judged',
    default: 50,
    min: 1,
  }),
  CANARY_WINDOW_REQUESTS: int({
    description: "How many of a canary's latest requests its error rate and p99 latency are measured over",
    default: 200,
    min: 1,
  }),
  BATCH_SCORING_CHUNK_ROWS: int({
    description:
      'Rows per session run of batch scoring; an online request waits at most one such run (they block the thread)',
    default: 1_024,
    min: 1,
  }),
  BATCH_SCORING_EXPORT_TIMEOUT_MS: int({
    description:
      'How long a batch scoring job over a time range waits for the feature store to export its rows before it fails (export_timeout)',
    default: 600_000,
    min: 1,
  }),
  BATCH_SCORING_HEARTBEAT_MS: int({
    description:
      'How often the replica running a batch scoring job writes its progress and heartbeat to Postgres (where every replica reads jobs)',
    default: 1_000,
    min: 50,
  }),
  BATCH_SCORING_STALE_MS: int({
    description:
      'A running job whose heartbeat is older than this lost its replica: another replica serving its version takes it over and scores it again (up to BATCH_SCORING_MAX_ATTEMPTS runs), else it is failed (replica_lost)',
    default: 30_000,
    min: 100,
  }),
  BATCH_SCORING_MAX_ATTEMPTS: int({
    description:
      'Runs of a batch scoring job at most, the first included: a job lost with its replica is taken over while it has runs left',
    default: 3,
    min: 1,
  }),
  BATCH_SCORING_RETENTION_MS: int({
    description:
      'How long a finished batch scoring job is kept (GET /batch-scores/:id answers it); its scores file stays in the artifact store',
    default: 7 * 86_400_000,
    min: 1_000,
  }),
  WARMUP_ROWS: int({ description: 'Rows of the warm-up runs of a newly loaded version', default: 8, min: 1 }),
};

export type DeployerConfig = ConfigOf<typeof DeployerConfigSpec>;
