import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type Admin, Kafka, type SASLOptions, logLevel } from 'kafkajs';
import type { Registry } from 'prom-client';
import { HealthRegistry, METRICS_REGISTRY } from '@mlops/observability';
import { MessagingMetrics } from '../metrics';
import { EventProducer } from '../producer';

export const KAFKA = Symbol('KAFKA');
export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

/** SASL and TLS of a Kafka client; @mlops/config's `kafkaSecurity(config)` builds it from KAFKA_SASL_* and KAFKA_SSL. */
export interface KafkaSecurity {
  sasl?: SASLOptions;
  ssl?: boolean;
}

export interface MessagingModuleOptions {
  /** Service name: Kafka client id and CloudEvents source prefix. */
  service: string;
  brokers: string[];
  /** SASL and TLS (`kafkaSecurity(config)` of @mlops/config); none: plaintext without authentication. */
  security?: KafkaSecurity;
  maxEventBytes?: number;
}

/** A Kafka client of one service: brokers, SASL/TLS from KAFKA_SASL_* / KAFKA_SSL, patient retries. */
export function createKafka(clientId: string, brokers: string[], security: KafkaSecurity = {}): Kafka {
  return new Kafka({
    clientId,
    brokers,
    ...(security.sasl ? { sasl: security.sasl } : {}),
    ...(security.ssl ? { ssl: true } : {}),
    logLevel: logLevel.WARN,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5_000 },
  });
}

@Injectable()
class MessagingLifecycle implements OnModuleInit, OnApplicationShutdown {
  /** The readiness check's admin client, connected on the first check. */
  private readonly admin: Admin;
  private adminConnected = false;

  constructor(
    private readonly producer: EventProducer,
    @Inject(KAFKA) kafka: Kafka,
    private readonly health: HealthRegistry,
  ) {
    this.admin = kafka.admin();
  }

  async onModuleInit(): Promise<void> {
    this.health.register({
      name: 'kafka',
      check: async () => {
        if (!this.adminConnected) {
          await this.admin.connect();
          this.adminConnected = true;
        }
        await this.admin.describeCluster();
      },
    });
    await this.producer.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
    // Unconditional: a no-op when no readiness check ever connected it.
    await this.admin.disconnect();
    this.adminConnected = false;
  }
}

/** Kafka client, the validating producer and messaging metrics for one service. */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        { provide: KAFKA, useFactory: () => createKafka(options.service, options.brokers, options.security) },
        {
          provide: MessagingMetrics,
          inject: [METRICS_REGISTRY],
          useFactory: (registry: Registry) => MessagingMetrics.for(registry),
        },
        {
          provide: EventProducer,
          inject: [KAFKA, MessagingMetrics],
          useFactory: (kafka: Kafka, metrics: MessagingMetrics) =>
            new EventProducer({
              kafka,
              metrics,
              ...(options.maxEventBytes ? { maxEventBytes: options.maxEventBytes } : {}),
            }),
        },
        MessagingLifecycle,
      ],
      exports: [KAFKA, MESSAGING_OPTIONS, MessagingMetrics, EventProducer],
    };
  }
}
