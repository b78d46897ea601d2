import { authKeys } from '@mlops/auth';
import { type ConfigKey, type ConfigOf, int, postgresKeys, serviceKeys, str } from '@mlops/config';

const hashKey: ConfigKey<string> = {
  ...str({
    description:
      'Secret key of the HMAC-SHA256 that pseudonymises fields marked sensitive "hash" (at least 32 characters). ' +
      'Unset: datasets with hashed fields cannot be registered, and records of such datasets are refused (503) rather than sent in clear',
    optional: true,
    secret: true,
  }),
  parse: (raw) => {
    if (raw.length < 32) throw new Error(`must be at least 32 characters, got ${raw.length}`);
    return raw;
  },
};

/** Every key the ingestion service reads; validated at start. */
export const IngestionConfigSpec = {
  ...serviceKeys(3001),
  ...postgresKeys,
  ...authKeys,
  INGESTION_HASH_KEY: hashKey,
  INGESTION_MAX_BODY_BYTES: int({
    description: 'Largest HTTP body of POST /datasets/:name/records; larger ones are refused with 413',
    default: 1_048_576,
    min: 1_024,
  }),
  INGESTION_MAX_BATCH: int({
    description: 'Most records in one HTTP request (JSON array items or NDJSON lines); more are refused with 413',
    default: 1_000,
    min: 1,
  }),
  INGESTION_PUBLISH_TIMEOUT_MS: int({
    description: 'How long an HTTP request waits for Kafka to acknowledge its events before answering 503',
    default: 10_000,
    min: 100,
  }),
  INGESTION_MAX_FUTURE_SKEW_SECONDS: int({
    description:
      'How far past the current time a record event time may lie (clock skew of producers); later ones are rejected ' +
      'as invalid_event_time, as are times before 1970-01-01',
    default: 86_400,
    min: 0,
  }),
  INGESTION_QUALITY_INTERVAL_MS: int({
    description:
      'Length of the data-quality window: every interval each dataset that saw records gets a mlops.data.quality.v1 event',
    default: 60_000,
    min: 100,
  }),
  INGESTION_SUBSCRIPTION_POLL_MS: int({
    description:
      'How often each replica reads the topic subscriptions to start and stop their consumers (the replica that served a change applies it at once)',
    default: 5_000,
    min: 100,
  }),
  INGESTION_RECORD_ID_RETENTION_HOURS: int({
    description: 'How long an accepted record id is remembered to answer retries as duplicates',
    default: 168,
    min: 1,
  }),
  INGESTION_RECORD_ID_MAX_ROWS: int({
    description: 'Most accepted record ids remembered; the oldest are forgotten first',
    default: 10_000_000,
    min: 1_000,
  }),
};

export type IngestionConfig = ConfigOf<typeof IngestionConfigSpec>;
