import { ConfigError, bool, int, list, oneOf, port, str, url } from './config';

export const KAFKA_SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** How to reach and authenticate to Kafka: the same keys for the local stack and a managed cluster. */
export const kafkaKeys = {
  KAFKA_BROKERS: list({
    description: 'Kafka bootstrap servers, comma-separated host:port',
    default: ['127.0.0.1:19092'],
  }),
  KAFKA_SASL_MECHANISM: oneOf(KAFKA_SASL_MECHANISMS, {
    description:
      'SASL mechanism to authenticate to Kafka (the local stack uses scram-sha-512); unset: no SASL. Needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    optional: true,
  }),
  KAFKA_SASL_USERNAME: str({ description: 'Kafka SASL user (one per service)', optional: true }),
  KAFKA_SASL_PASSWORD: str({ description: 'Kafka SASL password of that user', secret: true, optional: true }),
  KAFKA_SSL: bool({
    description: 'Connect to Kafka over TLS (a managed cluster); the system CA store verifies the broker',
    default: false,
  }),
};

export interface KafkaConnectionConfig {
  readonly KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  readonly KAFKA_SASL_USERNAME?: string | undefined;
  readonly KAFKA_SASL_PASSWORD?: string | undefined;
  readonly KAFKA_SSL?: boolean | undefined;
}

/** The `sasl` and `ssl` options of a kafkajs client (structurally; this lib does not import kafkajs). */
export type KafkaSasl = {
  [M in KafkaSaslMechanism]: { mechanism: M; username: string; password: string };
}[KafkaSaslMechanism];

export interface KafkaSecurity {
  sasl?: KafkaSasl;
  ssl?: boolean;
}

/** SASL and TLS options from the config; a mechanism without a user or password is a ConfigError. */
export function kafkaSecurity(config: KafkaConnectionConfig, service = 'kafka client'): KafkaSecurity {
  const security: KafkaSecurity = {};
  if (config.KAFKA_SSL) security.ssl = true;
  const mechanism = config.KAFKA_SASL_MECHANISM;
  if (mechanism === undefined) {
    if (config.KAFKA_SASL_USERNAME || config.KAFKA_SASL_PASSWORD)
      throw new ConfigError(service, [
        'KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SASL_MECHANISM is not',
      ]);
    return security;
  }
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  if (!username || !password) {
    const missing = [username ? [] : ['KAFKA_SASL_USERNAME'], password ? [] : ['KAFKA_SASL_PASSWORD']].flat();
    throw new ConfigError(
      service,
      missing.map((name) => `${name} is required with KAFKA_SASL_MECHANISM=${mechanism}`),
    );
  }
  security.sasl = { mechanism, username, password };
  return security;
}

/** Keys every service reads. */
export function serviceKeys(defaultPort: number) {
  return {
    ...kafkaKeys,
    HTTP_HOST: str({ description: 'Interface the HTTP API listens on', default: '127.0.0.1' }),
    HTTP_PORT: port({ description: 'Port of the HTTP API (health, metrics, the service API)', default: defaultPort }),
    LOG_LEVEL: oneOf(['error', 'warn', 'log', 'debug', 'verbose'] as const, {
      description: 'Most verbose log level printed',
      default: 'log',
    }),
    CONSUMER_GROUP: str({
      description:
        'Kafka consumer group of the event handlers (also the inbox owner); replicas share it. Default: the service name',
      optional: true,
    }),
    MAX_EVENT_BYTES: int({
      description: 'Largest event value produced or consumed; larger ones are refused or dead-lettered',
      default: 1_000_000,
      min: 1_024,
    }),
  };
}

/** Keys of a service that owns a Postgres schema. */
export const postgresKeys = {
  DATABASE_URL: url({
    description:
      "PostgreSQL connection URL with the service's own role (which owns only the service's schema; the local stack writes one per service to stack.env)",
    protocols: ['postgres', 'postgresql'],
    secret: true,
    example: 'postgres://mlops_ingestion:<password>@127.0.0.1:55432/mlops',
  }),
};

/** Keys of a service that owns ClickHouse tables. */
export function clickhouseKeys(service: string) {
  return {
    CLICKHOUSE_URL: url({
      description: 'ClickHouse server URL; when unset the embedded chdb engine is used',
      protocols: ['http', 'https'],
      optional: true,
    }),
    CLICKHOUSE_DATA_DIR: str({
      description: 'Embedded mode only: the data directory this process owns',
      default: `.data/clickhouse/${service}`,
    }),
  };
}
