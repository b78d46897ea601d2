import { type DynamicModule, Logger, Module } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import {
  CloudEventsKafkaServer,
  EventProducer,
  KAFKA,
  MessagingMetrics,
  MessagingModule,
  OutboxRelay,
  messagingMigrations,
} from '@mlops/messaging';
import { type AuthConfig, AuthModule, authMigrations } from '@mlops/auth';
import { HttpApiModule } from '@mlops/http';
import { type KafkaConnectionConfig, kafkaSecurity } from '@mlops/config';
import { ObservabilityModule } from '@mlops/observability';
import { ClickHouseModule, POSTGRES, type PostgresOptions, PostgresModule } from '@mlops/storage';
import { PlatformLifecycle } from './platform.lifecycle';

/** The keys of a service's config the platform wiring reads (see serviceKeys/postgresKeys/clickhouseKeys). */
export interface PlatformConfig extends AuthConfig, KafkaConnectionConfig {
  readonly KAFKA_BROKERS: string[];
  readonly MAX_EVENT_BYTES: number;
  readonly DATABASE_URL: string;
  readonly CONSUMER_GROUP?: string | undefined;
  readonly CLICKHOUSE_URL?: string | undefined;
  readonly CLICKHOUSE_DATA_DIR?: string;
}

export interface PlatformModuleOptions {
  service: string;
  /** The Postgres schema the service owns; the inbox and outbox tables live in it. */
  pgSchema: string;
  config: PlatformConfig;
  migrations?: PostgresOptions['migrations'];
  /** The ClickHouse database, for a service that owns ClickHouse tables. */
  clickhouseDatabase?: string;
  /** The version of the service's HTTP API in its OpenAPI document; 0.1.0 unless given. */
  apiVersion?: string;
  /** Most events of a partition in one inbox transaction (the consumer's default unless given). */
  consumerMaxGroup?: number;
}

/**
 * What every service stands on: health and metrics, Kafka, its Postgres schema (and ClickHouse database if any),
 * the event transport of its `@EventPattern` handlers with the inbox in that schema, and the relay of its outbox;
 * for its HTTP API, bearer-token auth with roles and an audit log (`@mlops/auth`), `/openapi.json` and `/docs`.
 * Throws a ConfigError (exit 78 at start) when the auth keys do not fit together.
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformModuleOptions): DynamicModule {
    const { service, config, pgSchema } = options;
    const imports: DynamicModule[] = [
      ObservabilityModule.forRoot({ service }),
      HttpApiModule.forRoot({ service, version: options.apiVersion ?? '0.1.0' }),
      AuthModule.forRoot({ service, pgSchema, config }),
      MessagingModule.forRoot({
        service,
        brokers: config.KAFKA_BROKERS,
        security: kafkaSecurity(config, service),
        maxEventBytes: config.MAX_EVENT_BYTES,
      }),
      PostgresModule.forRoot({
        url: config.DATABASE_URL,
        schema: pgSchema,
        migrations: [...messagingMigrations, ...authMigrations, ...(options.migrations ?? [])],
        applicationName: service,
      }),
    ];
    if (options.clickhouseDatabase) {
      if (!config.CLICKHOUSE_DATA_DIR)
        throw new Error(`${service} owns ClickHouse tables but its config has no CLICKHOUSE_DATA_DIR`);
      imports.push(
        ClickHouseModule.forRoot({
          ...(config.CLICKHOUSE_URL ? { url: config.CLICKHOUSE_URL } : {}),
          dataDir: config.CLICKHOUSE_DATA_DIR,
          database: options.clickhouseDatabase,
        }),
      );
    }
    return {
      module: PlatformModule,
      imports,
      providers: [
        {
          provide: CloudEventsKafkaServer,
          inject: [KAFKA, EventProducer, MessagingMetrics, POSTGRES],
          useFactory: (kafka: Kafka, producer: EventProducer, metrics: MessagingMetrics, dataSource: DataSource) =>
            new CloudEventsKafkaServer({
              kafka,
              consumerName: config.CONSUMER_GROUP ?? service,
              producer,
              metrics,
              maxEventBytes: config.MAX_EVENT_BYTES,
              ...(options.consumerMaxGroup ? { maxGroup: options.consumerMaxGroup } : {}),
              logger: new Logger(`${service}:events`),
              inbox: { dataSource, schema: pgSchema },
            }),
        },
        {
          provide: OutboxRelay,
          inject: [POSTGRES, EventProducer, MessagingMetrics],
          useFactory: (dataSource: DataSource, producer: EventProducer, metrics: MessagingMetrics) =>
            new OutboxRelay({
              dataSource,
              schema: pgSchema,
              producer,
              metrics,
              logger: new Logger(`${service}:outbox`),
            }),
        },
        PlatformLifecycle,
      ],
      exports: [...imports, CloudEventsKafkaServer, OutboxRelay],
    };
  }
}
