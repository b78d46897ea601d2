import type { DynamicModule, INestApplication, LogLevel, Type } from '@nestjs/common';
import { Logger, Module } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { authSettingsOrExit } from '@mlops/auth';
import { type ConfigOf, type ConfigSpec, loadConfigOrExit } from '@mlops/config';
import { CloudEventsKafkaServer } from '@mlops/messaging';
import { HealthRegistry } from '@mlops/observability';
import { PlatformExceptionFilter } from './http-exception.filter';
import type { PlatformConfig } from './platform.module';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** The keys of a service's config the bootstrap itself reads (serviceKeys, authKeys). */
export interface BootConfig extends Pick<
  PlatformConfig,
  'AUTH_ADMIN_TOKEN' | 'AUTH_ADMIN_TOKEN_FILE' | 'AUTH_DISABLED' | 'AUTH_METRICS_PUBLIC'
> {
  readonly HTTP_HOST: string;
  readonly HTTP_PORT: number;
  readonly LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

/** The HTTP server under Nest: Express (the default) or Fastify. */
export type HttpAdapterKind = 'express' | 'fastify';

/** Largest JSON body either adapter reads: Express's body parser default, so the adapter changes no answer. */
const JSON_BODY_LIMIT_BYTES = 100 * 1024;

/** How to build one service's app from its config; `AppModule.forRoot` imports PlatformModule. */
export interface ServiceApp<C extends BootConfig> {
  service: string;
  /** The HTTP adapter; Express when absent. Routes, guards, pipes and filters behave the same on both. */
  httpAdapter?: (config: C) => HttpAdapterKind;
  appModule: (config: C) => DynamicModule;
  /** Runs before Nest initialises the app, e.g. middleware that must come before Nest's body parsers. */
  beforeInit?: (app: INestApplication, config: C) => void;
  /** Modules every app of the service imports beside its own: the place for platform-wide HTTP modules. */
  imports?: Array<Type<unknown> | DynamicModule>;
}

/** A config spec with the keys the bootstrap reads (a spec without serviceKeys does not compile). */
export type ServiceSpec = ConfigSpec & { [K in keyof BootConfig]: { parse(raw: string): BootConfig[K] } };

/** A service as `main.ts` starts it: its app and the config spec checked before anything is built. */
export interface ServiceDefinition<S extends ServiceSpec> extends ServiceApp<ConfigOf<S> & BootConfig> {
  configSpec: S;
}

/** Infers the spec's type for a service definition. */
export function defineService<S extends ServiceSpec>(definition: ServiceDefinition<S>): ServiceDefinition<S> {
  return definition;
}

/**
 * Builds a service's Nest app: module hooks run once (init, then bootstrap), then its event transport starts,
 * so no handler runs before the service is initialised. Not listening on HTTP yet: tests use it in-process.
 */
export async function createServiceApp<C extends BootConfig>(
  definition: ServiceApp<C>,
  config: C,
): Promise<INestApplication> {
  // The service's module plus the modules every app gets beside it: a platform-wide module (say the HTTP API
  // module serving /openapi.json) is added to this list, or passed per service as `imports`.
  @Module({})
  class ServiceRootModule {}
  const root: DynamicModule = {
    module: ServiceRootModule,
    imports: [definition.appModule(config), ...(definition.imports ?? [])],
  };
  const options = { logger: LEVELS.slice(0, LEVELS.indexOf(config.LOG_LEVEL) + 1), abortOnError: false };
  let app: INestApplication;
  if (definition.httpAdapter?.(config) === 'fastify') {
    // Loaded only by services that choose it.
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = await NestFactory.create(root, new FastifyAdapter({ bodyLimit: JSON_BODY_LIMIT_BYTES }), options);
  } else app = await NestFactory.create(root, options);
  app.enableShutdownHooks();
  // Global, and inherited by the event transport below: filters must be in place before it connects.
  app.useGlobalFilters(new PlatformExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
  definition.beforeInit?.(app, config);
  // One init for the whole app. The transport connects after it, already initialised, so it never runs the
  // hooks itself, and it starts consuming only once every onModuleInit/onApplicationBootstrap has run.
  await app.init();
  app.connectMicroservice({ strategy: app.get(CloudEventsKafkaServer, { strict: false }) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  // Draining: readiness fails first, so traffic stops before connections close.
  const health = app.get(HealthRegistry, { strict: false });
  process.once('SIGTERM', () => health.markShuttingDown());
  return app;
}

export async function listenService(app: INestApplication, host: string, port: number, service: string): Promise<void> {
  await app.listen(port, host);
  new Logger(service).log(`listening on http://${host}:${port}`);
}

/** A service's whole `main`: config checked (exit 78 when bad), app built, listening; exit 1 if the start fails. */
export function bootstrapService<S extends ServiceSpec>(definition: ServiceDefinition<S>): Promise<void> {
  const start = async (): Promise<void> => {
    // Sound: S has the boot keys (ServiceSpec); TypeScript cannot see it through the generic ConfigOf.
    const config = loadConfigOrExit(definition.service, definition.configSpec) as ConfigOf<S> & BootConfig;
    // The auth keys checked together (an admin token, or auth disabled): exit 78 like a bad key.
    authSettingsOrExit(definition.service, config);
    const app = await createServiceApp(definition, config);
    await listenService(app, config.HTTP_HOST, config.HTTP_PORT, definition.service);
  };
  return start().catch((error: unknown) => {
    console.error(`${definition.service} failed to start:`, error);
    process.exit(1);
  });
}
