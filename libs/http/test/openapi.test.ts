import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Controller, Get, Module, type INestApplication, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { domainError, err, ok, type Result, type DomainError } from '@mlops/core';
import {
  errorResponse,
  type FromSchema,
  HttpApiModule,
  invalidRequestBodySchema,
  type OpenApiDocument,
  Operation,
  respond,
  ValidBody,
  ValidParams,
  ValidQuery,
} from '../src';

const createThing = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1 }, size: { type: 'integer' } },
} as const;
const thingParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[a-z]+$' } },
} as const;
const thingQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { verbose: { enum: ['true', 'false'] } },
} as const;
const thing = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string' } },
} as const;

function findThing(id: string): Result<FromSchema<typeof thing>, DomainError<'not_found'>> {
  return id === 'known' ? ok({ name: id }) : err(domainError('not_found', `no thing "${id}"`));
}

@Controller('things')
class ThingsController {
  @Post()
  @Operation({ summary: 'Create a thing', responses: { 201: { description: 'the thing', schema: thing } } })
  create(@ValidBody(createThing) body: FromSchema<typeof createThing>): FromSchema<typeof thing> {
    return { name: body.name };
  }

  @Get(':id')
  @Operation({
    summary: 'Read a thing',
    responses: {
      200: { description: 'the thing', schema: thing },
      404: errorResponse('no such thing', 'not_found'),
      400: errorResponse('a reserved id', 'reserved'),
    },
  })
  read(
    @ValidParams(thingParams) params: FromSchema<typeof thingParams>,
    @ValidQuery(thingQuery) _query: FromSchema<typeof thingQuery>,
  ): FromSchema<typeof thing> {
    return respond(findThing(params.id), { not_found: 404 });
  }

  @Get()
  list(): string[] {
    return ['undocumented'];
  }
}

@Module({ imports: [HttpApiModule.forRoot({ service: 'things', version: '1.2.3' })], controllers: [ThingsController] })
class ThingsModule {}

let app: INestApplication;
let base: string;

before(async () => {
  app = await NestFactory.create(ThingsModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});

after(async () => {
  await app.close();
});

interface InvalidRequest {
  error: string;
  message: string;
  errors: { path: string; message: string }[];
}

async function post(path: string, body: string): Promise<{ status: number; body: InvalidRequest }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: (await response.json()) as InvalidRequest };
}

test('a valid body reaches the controller', async () => {
  assert.deepEqual(await post('/things', '{"name":"a","size":2}'), { status: 201, body: { name: 'a' } });
});

test('an invalid body answers 400 invalid_request naming every error, before the controller runs', async () => {
  const answer = await post('/things', '{"size":"2","colour":"red"}');
  assert.equal(answer.status, 400);
  assert.equal(answer.body.error, 'invalid_request');
  assert.equal(typeof answer.body.message, 'string');
  assert.deepEqual(answer.body.errors.map((e) => e.path).sort(), ['/colour', '/name', '/size']);
});

test('path params and query are checked as strings, not coerced', async () => {
  assert.equal((await fetch(`${base}/things/known`)).status, 200);
  const badParam = await fetch(`${base}/things/K9`);
  assert.equal(badParam.status, 400);
  assert.deepEqual(
    ((await badParam.json()) as InvalidRequest).errors.map((e) => e.path),
    ['/id'],
  );
  const badQuery = await fetch(`${base}/things/known?verbose=yes&extra=1`);
  assert.deepEqual(((await badQuery.json()) as InvalidRequest).errors.map((e) => e.path).sort(), [
    '/extra',
    '/verbose',
  ]);
});

test('a domain error answers its mapped status with { error, message }', async () => {
  const response = await fetch(`${base}/things/unknown`);
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: 'not_found', message: 'no thing "unknown"' });
});

test('an undeclared operation still answers', async () => {
  const response = await fetch(`${base}/things`);
  assert.deepEqual(await response.json(), ['undocumented']);
});

test('/openapi.json describes every route with its request and answers', async () => {
  const response = await fetch(`${base}/openapi.json`);
  assert.equal(response.status, 200);
  const document = (await response.json()) as OpenApiDocument;
  assert.equal(document.openapi, '3.1.0');
  assert.deepEqual(document.info, { title: 'things', version: '1.2.3' });
  assert.deepEqual(Object.keys(document.paths), ['/things', '/things/{id}']);
  const create = document.paths['/things']!.post!;
  assert.equal(create.summary, 'Create a thing');
  assert.deepEqual(create.requestBody, { required: true, content: { 'application/json': { schema: createThing } } });
  assert.deepEqual(Object.keys(create.responses).sort(), ['201', '400']);
  const read = document.paths['/things/{id}']!.get!;
  assert.deepEqual(read.parameters, [
    { name: 'id', in: 'path', required: true, schema: thingParams.properties.id },
    { name: 'verbose', in: 'query', required: false, schema: thingQuery.properties.verbose },
  ]);
  assert.deepEqual(read.responses['404']!.content!['application/json'].schema, errorResponse('', 'not_found').schema);
  // The declared 400 and the one of a request that does not match its schema.
  assert.deepEqual(read.responses['400']!.content!['application/json'].schema, {
    oneOf: [errorResponse('', 'reserved').schema, invalidRequestBodySchema],
  });
  assert.equal(document.paths['/things']!.get!.summary, '(not documented)');
  assert.equal(document.paths['/openapi.json'], undefined);
});

test('/docs is a self-contained page listing every operation with its request and answers', async () => {
  const response = await fetch(`${base}/docs`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/html/);
  const page = await response.text();
  for (const text of [
    'Create a thing',
    'Read a thing',
    '/things/{id}',
    'invalid_request',
    'no such thing',
    '&quot;minLength&quot;',
  ]) {
    assert.ok(page.includes(text), `the page shows ${text}`);
  }
  assert.doesNotMatch(page, /<script|<link|src=|https?:\/\/(?!json-schema)/);
});
