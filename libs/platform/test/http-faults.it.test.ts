// The platform's HTTP answers under faults: an unavailable Postgres answers 503 with Retry-After (never 500) and the
// service answers 200 again once Postgres is back; unknown errors stay 500 without request values.
import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Server, type Socket, connect, createServer } from 'node:net';
import {
  ConsoleLogger,
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  type INestApplication,
  Module,
  Query,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AuditLog, Audited } from '@mlops/auth';
import { POSTGRES } from '@mlops/storage';
import { authorized, databaseUrl, eventually, uid } from '@mlops/testing';
import { PlatformModule, RETRY_AFTER_SECONDS, createServiceApp } from '../src';
import { dropSchema, probeConfig } from './support';

const service = uid('fault-probe');
const schema = service.replace(/-/g, '_');

/** A TCP proxy in front of Postgres that can be taken down (connections refused, open ones cut) and back up. */
class PostgresProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

@Controller('probe')
class ProbeController {
  constructor(@Inject(POSTGRES) private readonly dataSource: DataSource) {}

  @Get('db')
  async db(): Promise<{ one: number }> {
    const [row] = (await this.dataSource.query('SELECT 1 AS one')) as Array<{ one: number }>;
    return { one: row!.one };
  }

  @Get('bug')
  bug(@Query('email') email: string): never {
    throw new TypeError(`a bug of the handler, quoting ${email}`);
  }

  @Get('audited-refusal')
  @Audited()
  auditedRefusal(): never {
    throw new HttpException({ error: 'probe_conflict', message: 'no' }, HttpStatus.CONFLICT);
  }

  @Get('busy')
  busy(): never {
    throw new HttpException({ error: 'busy', message: 'try later' }, HttpStatus.SERVICE_UNAVAILABLE);
  }
}

let app: INestApplication;
let base: string;
let proxy: PostgresProxy;

before(async () => {
  const target = new URL(databaseUrl());
  proxy = new PostgresProxy(target.hostname, Number(target.port || 5432));
  await proxy.up();
  const proxied = new URL(databaseUrl());
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const config = { ...probeConfig(), DATABASE_URL: proxied.href };
  @Module({
    imports: [PlatformModule.forRoot({ service, pgSchema: schema, config })],
    controllers: [ProbeController],
  })
  class ProbeModule {}
  app = await createServiceApp({ service, appModule: () => ({ module: ProbeModule }) }, config);
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
});

after(async () => {
  await proxy.up();
  await app.close();
  await proxy.down();
  await dropSchema(schema);
});

test('Postgres unavailable: 503 dependency_unavailable with Retry-After, then 200 once it is back', async () => {
  assert.equal((await fetch(`${base}/probe/db`, authorized())).status, 200);
  await proxy.down();
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const res = await fetch(`${base}/probe/db`, authorized());
    assert.equal(res.status, 503, `attempt ${attempt}`);
    assert.equal(res.headers.get('retry-after'), String(RETRY_AFTER_SECONDS));
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'dependency_unavailable');
    assert.match(body.message, /unavailable/);
  }
  await proxy.up();
  const back = await fetch(`${base}/probe/db`, authorized());
  assert.equal(back.status, 200);
  assert.deepEqual(await back.json(), { one: 1 });
});

test('an unknown error stays 500, logged with the route and the error name, never request values', async () => {
  const logged: string[] = [];
  class RecordingLogger extends ConsoleLogger {
    override error(message: unknown, ...rest: unknown[]): void {
      logged.push([message, ...rest].map(String).join(' '));
    }
    override warn(message: unknown, ...rest: unknown[]): void {
      logged.push([message, ...rest].map(String).join(' '));
    }
  }
  app.useLogger(new RecordingLogger());
  try {
    const res = await fetch(`${base}/probe/bug?email=someone@example.com`, authorized());
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('retry-after'), null);
  } finally {
    app.useLogger(['error']);
  }
  const text = logged.join('\n');
  assert.match(text, /GET \/probe\/bug failed: TypeError/);
  assert.match(text, /at ProbeController\.bug/, 'the stack frames are logged');
  assert.doesNotMatch(text, /someone@example\.com/);
});

test('the 500 answer carries no detail of the failure', async () => {
  const res = await fetch(`${base}/probe/bug?email=someone@example.com`, authorized());
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: 'internal', message: 'internal error' });
});

test('every 503 a controller answers carries Retry-After', async () => {
  const res = await fetch(`${base}/probe/busy`, authorized());
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), String(RETRY_AFTER_SECONDS));
  assert.deepEqual(await res.json(), { error: 'busy', message: 'try later' });
});

test('the platform serves /openapi.json, /docs and /auth/* in every app; health stays open', async () => {
  assert.equal((await fetch(`${base}/health/live`)).status, 200);
  assert.equal((await fetch(`${base}/openapi.json`)).status, 200);
  assert.equal((await fetch(`${base}/docs`)).status, 200);
  const anonymous = await fetch(`${base}/auth/whoami`);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
  const whoami = await fetch(`${base}/auth/whoami`, authorized());
  assert.equal(whoami.status, 200);
  assert.deepEqual(((await whoami.json()) as { roles: string[] }).roles, ['admin']);
});

test('an audited request that fails in its handler has an audit row saying why (the filter notes it)', async () => {
  const res = await fetch(`${base}/probe/audited-refusal`, authorized());
  assert.equal(res.status, 409);
  const row = await eventually(async () => {
    const rows = await app.get(AuditLog).list({ limit: 100 });
    return rows.find((r) => r.route === '/probe/audited-refusal');
  }, 'the audit row of the failed request');
  assert.deepEqual([row.status, row.outcome, row.reason], [409, 'allowed', '409 probe_conflict']);
});
