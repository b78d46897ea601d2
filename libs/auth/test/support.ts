// An in-process service with @mlops/auth: the real Nest app builder, Postgres schema, Kafka consumer and outbox relay.
import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ArgumentsHost,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  type INestApplication,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Param,
  Post,
  Put,
  UnprocessableEntityException,
} from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { loadConfig } from '@mlops/config';
import {
  CloudEventsKafkaServer,
  EventProducer,
  KAFKA,
  MessagingMetrics,
  MessagingModule,
  OutboxRelay,
  RethrowRpcExceptionFilter,
  messagingMigrations,
} from '@mlops/messaging';
import { ObservabilityModule } from '@mlops/observability';
import { POSTGRES, PostgresModule } from '@mlops/storage';
import { databaseUrl, kafkaBrokers, kafkaTestSecurity, uid } from '@mlops/testing';
import {
  Audited,
  NotAudited,
  AuditLog,
  AuthModule,
  CurrentPrincipal,
  type Principal,
  Public,
  RequireRole,
  authKeys,
  authMigrations,
  noteAuditFailure,
  recordAuditAction,
} from '../src';

export { eventually, header, readTopic, testKafka, uid } from '@mlops/testing';

/** Stand-ins for routes other libs serve (the OpenAPI document), which cannot carry our decorators. */
@Controller()
class DocsController {
  @Get('openapi.json')
  spec(): { openapi: string } {
    return { openapi: '3.1.0' };
  }
}

/** Routes needing different roles, as a service would declare them. */
function probeController(schema: string) {
  @Controller('probe')
  class ProbeController {
    constructor(@Inject(POSTGRES) private readonly dataSource: DataSource) {}

    @Get('open')
    @Public()
    open(): { open: true } {
      return { open: true };
    }

    /** A read worth auditing: an export of what the service holds. */
    @Get('export')
    @Audited()
    @RequireRole('analyst')
    export(): { rows: number } {
      return { rows: 0 };
    }

    /** No decorator: any valid token. */
    @Get('any')
    any(@CurrentPrincipal() principal: Principal): { name: string } {
      return { name: principal.name };
    }

    @Post('records')
    @RequireRole('producer')
    @HttpCode(202)
    ingest(@Body() body: { records?: unknown[] }): { accepted: number } {
      return { accepted: body.records?.length ?? 0 };
    }

    @Put('datasets/:name')
    @RequireRole('data-steward')
    register(@Param('name') name: string): { dataset: string } {
      return { dataset: name };
    }

    /** A POST that changes nothing (a prediction): refusals audited, allowed requests not. */
    @Post('score')
    @NotAudited()
    @RequireRole('reader')
    @HttpCode(200)
    score(): { score: number } {
      return { score: 0.5 };
    }

    /** Fails with a message quoting the body, as a careless handler might: the audit row must not carry it. */
    @Post('records/strict')
    @RequireRole('producer')
    strict(@Body() body: unknown): never {
      throw new UnprocessableEntityException({
        error: 'bad_record',
        message: `record ${JSON.stringify(body)} is invalid`,
      });
    }

    /** A domain action audited in the same transaction as its effect. */
    @Post('datasets/:name/weaken')
    @RequireRole('admin')
    async weaken(
      @Param('name') name: string,
      @Body() body: { acknowledge?: string },
      @CurrentPrincipal() actor: Principal,
    ): Promise<{ done: true }> {
      await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT 1');
        await recordAuditAction(manager, schema, {
          actor,
          action: 'dataset protection weakened',
          details: { dataset: name, removedSensitiveFields: ['email'] },
          ...(body.acknowledge ? { acknowledgement: body.acknowledge } : {}),
        });
      });
      return { done: true };
    }
  }
  return ProbeController;
}

/** The platform runs the outbox relay in services; the test app runs its own. */
function relayFor(schema: string) {
  @Injectable()
  class Relay implements OnApplicationBootstrap, OnApplicationShutdown {
    private relay?: OutboxRelay;
    constructor(
      @Inject(POSTGRES) private readonly dataSource: DataSource,
      private readonly producer: EventProducer,
      private readonly metrics: MessagingMetrics,
    ) {}
    onApplicationBootstrap(): void {
      this.relay = new OutboxRelay({
        dataSource: this.dataSource,
        schema,
        producer: this.producer,
        metrics: this.metrics,
        pollIntervalMs: 50,
      });
      this.relay.start();
    }
    async onApplicationShutdown(): Promise<void> {
      await this.relay?.stop();
    }
  }
  return Relay;
}

export interface TestService {
  app: INestApplication;
  url: string;
  schema: string;
  dataSource: DataSource;
  audit: AuditLog;
  close(): Promise<void>;
}

/** The platform's filter as far as this lib is concerned: notes why an audited request failed, rethrows for events. */
class AuditNotingFilter extends RethrowRpcExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): ReturnType<RethrowRpcExceptionFilter['catch']> {
    if (host.getType() === 'http') noteAuditFailure(host.switchToHttp().getRequest(), exception);
    return super.catch(exception, host);
  }
}

/** A service named `<prefix>-xxxx` in its own schema, listening on a free port, with the auth env given. */
export async function startService(prefix: string, env: Record<string, string>): Promise<TestService> {
  const service = uid(prefix);
  const schema = service.replace(/-/g, '_');
  const config = loadConfig(service, authKeys, env);
  @Module({
    imports: [
      ObservabilityModule.forRoot({ service }),
      MessagingModule.forRoot({ service, brokers: kafkaBrokers(), security: kafkaTestSecurity() }),
      PostgresModule.forRoot({
        url: databaseUrl(),
        schema,
        migrations: [...messagingMigrations, ...authMigrations],
        poolSize: 4,
      }),
      AuthModule.forRoot({ service, pgSchema: schema, config }),
    ],
    controllers: [DocsController, probeController(schema)],
    providers: [relayFor(schema)],
  })
  class ServiceModule {}
  // What libs/platform does for a service (which depends on this lib, so the tests wire it by hand).
  const app = await NestFactory.create({ module: ServiceModule }, { logger: ['error'], abortOnError: false });
  app.useGlobalFilters(new AuditNotingFilter(app.get(HttpAdapterHost).httpAdapter));
  await app.init();
  const transport = new CloudEventsKafkaServer({
    kafka: app.get<Kafka>(KAFKA),
    consumerName: service,
    producer: app.get(EventProducer),
    metrics: app.get(MessagingMetrics),
    maxEventBytes: 100_000,
    logger: new Logger(`${service}:events`),
    inbox: { dataSource: app.get<DataSource>(POSTGRES), schema },
  });
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const dataSource = app.get<DataSource>(POSTGRES);
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    schema,
    dataSource,
    audit: app.get(AuditLog),
    close: async () => {
      // The app first: its relay and consumer must stop before their tables go.
      await app.close();
      const client = new Client({ connectionString: databaseUrl() });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/** A file holding `content`, as a secret mount would. */
export function secretFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'auth-it-')), 'admin-token');
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
}

/** One HTTP call with an optional bearer token and JSON body. */
export async function call(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // /metrics answers text
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}
