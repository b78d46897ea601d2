import { int, list, oneOf, port, str, url } from './config';

/** Keys every service reads. */
export function serviceKeys(defaultPort: number) {
  return {
    KAFKA_BROKERS: list({
      description: 'Kafka bootstrap servers, comma-separated host:port',
      default: ['127.0.0.1:19092'],
    }),
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
    description: 'PostgreSQL connection URL; each service uses its own schema in it',
    protocols: ['postgres', 'postgresql'],
    secret: true,
    example: 'postgres://mlops@127.0.0.1:55432/mlops',
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
