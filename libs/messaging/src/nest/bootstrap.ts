import { type DynamicModule, type INestApplication, Logger, type LogLevel } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { HealthRegistry } from '@mlops/observability';
import { MessagingMetrics } from '../metrics';
import { EventProducer } from '../producer';
import { CloudEventsKafkaServer, RethrowRpcExceptionFilter } from './event-server';
import { KAFKA } from './messaging.module';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export interface ServiceAppOptions {
  service: string;
  module: DynamicModule;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  maxEventBytes: number;
  /** Consumer group (and inbox owner) of the app's event handlers; default the service name. */
  consumerGroup?: string | undefined;
  /** Postgres for the inbox of the service's event handlers (absent: handlers run without one). */
  inbox?: { dataSource: (app: INestApplication) => DataSource; schema: string };
}

/**
 * Builds a service's Nest app with its event consumer attached (the `@EventPattern` handlers),
 * started but not listening on HTTP yet; tests use it in-process, `main.ts` adds `listen`.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<INestApplication> {
  const app = await NestFactory.create(options.module, {
    logger: LEVELS.slice(0, LEVELS.indexOf(options.logLevel) + 1),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  // Global, and inherited by the event transport below: filters must be in place before it connects.
  app.useGlobalFilters(new RethrowRpcExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
  const server = new CloudEventsKafkaServer({
    kafka: app.get<Kafka>(KAFKA),
    consumerName: options.consumerGroup ?? options.service,
    producer: app.get(EventProducer),
    metrics: app.get(MessagingMetrics),
    maxEventBytes: options.maxEventBytes,
    logger: new Logger(`${options.service}:events`),
    ...(options.inbox ? { inbox: { dataSource: options.inbox.dataSource(app), schema: options.inbox.schema } } : {}),
  });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  // Draining: readiness fails first, so traffic stops before connections close.
  const health = app.get(HealthRegistry);
  process.once('SIGTERM', () => health.markShuttingDown());
  return app;
}

export async function listenService(app: INestApplication, host: string, port: number, service: string): Promise<void> {
  await app.listen(port, host);
  new Logger(service).log(`listening on http://${host}:${port}`);
}
