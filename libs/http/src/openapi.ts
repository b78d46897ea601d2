import 'reflect-metadata';
import { Controller, type DynamicModule, Get, Header, Inject, Injectable, Module, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  EXCLUDED,
  OPERATION,
  type OperationSpec,
  REQUEST_SCHEMAS,
  type RequestPart,
  type ResponseSpec,
} from './decorators';
import { renderDocsPage } from './docs-page';
import type { JsonSchema, ObjectSchema } from './schema';

export interface HttpApiOptions {
  /** The service name, the document's title. */
  service: string;
  /** The API version (info.version). */
  version: string;
  description?: string;
}

export const HTTP_API_OPTIONS = Symbol('HTTP_API_OPTIONS');

/** The schema of an error answer `{ error, message, details? }` whose `error` is one of `kinds`; details as given. */
export function errorBodySchema(kinds: readonly string[], details?: JsonSchema): ObjectSchema {
  return {
    type: 'object',
    required: details === undefined ? ['error', 'message'] : ['error', 'message', 'details'],
    additionalProperties: false,
    properties: {
      error: kinds.length === 1 ? { const: kinds[0] } : { enum: [...kinds] },
      message: { type: 'string' },
      details: details ?? {},
    },
  };
}

/** An error answer of the given kind(s), for OperationSpec.responses; `details` describes its particulars. */
export function errorResponse(
  description: string,
  kinds: string | readonly string[],
  details?: JsonSchema,
): ResponseSpec {
  return { description, schema: errorBodySchema(typeof kinds === 'string' ? [kinds] : kinds, details) };
}

/** The schema of the 400 every operation with a request schema answers to a request that does not match it. */
export const invalidRequestBodySchema: ObjectSchema = {
  type: 'object',
  required: ['error', 'message', 'errors'],
  additionalProperties: false,
  properties: {
    error: { const: 'invalid_request' },
    message: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        additionalProperties: false,
        properties: {
          path: { type: 'string', description: 'JSON Pointer into the request part' },
          message: { type: 'string' },
        },
      },
    },
  },
};

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: true; description?: string; content: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, { description: string; content?: { 'application/json': { schema: JsonSchema } } }>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema';
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
}

const METHODS: Partial<Record<RequestMethod, string>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.DELETE]: 'delete',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.OPTIONS]: 'options',
  [RequestMethod.HEAD]: 'head',
};

/** Builds the OpenAPI 3.1 document from the route metadata of every controller the application has. */
@Injectable()
export class OpenApiService {
  private document: OpenApiDocument | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(HTTP_API_OPTIONS) private readonly options: HttpApiOptions,
  ) {}

  /** Built on first use, when every route is known; routes do not change afterwards. */
  get(): OpenApiDocument {
    this.document ??= this.build();
    return this.document;
  }

  private build(): OpenApiDocument {
    const info = {
      title: this.options.service,
      version: this.options.version,
      ...(this.options.description ? { description: this.options.description } : {}),
    };
    const paths: OpenApiDocument['paths'] = {};
    for (const wrapper of this.discovery.getControllers()) {
      const { metatype, instance } = wrapper;
      if (!metatype || !instance || Reflect.getMetadata(EXCLUDED, metatype)) continue;
      const prefixes = pathsOf(Reflect.getMetadata(PATH_METADATA, metatype));
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[methodName];
        if (typeof handler !== 'function' || Reflect.getMetadata(EXCLUDED, handler)) continue;
        const method = METHODS[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const routePaths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        // Message handlers and plain methods carry no HTTP route.
        if (method === undefined || routePaths === undefined) continue;
        for (const prefix of prefixes) {
          for (const route of pathsOf(routePaths)) {
            const path = openApiPath(prefix, route);
            (paths[path] ??= {})[method] = operationOf(handler, `${metatype.name}.${methodName}`, prefix);
          }
        }
      }
    }
    const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
    return { openapi: '3.1.0', jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema', info, paths: sorted };
  }
}

function pathsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return [typeof value === 'string' ? value : '/'];
}

/** `/feature-views/:name` -> `/feature-views/{name}`. */
function openApiPath(prefix: string, route: string): string {
  const joined = `/${prefix}/${route}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  return joined.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationOf(handler: object, operationId: string, tag: string): OpenApiOperation {
  const spec = Reflect.getMetadata(OPERATION, handler) as OperationSpec | undefined;
  const schemas = (Reflect.getMetadata(REQUEST_SCHEMAS, handler) ?? {}) as Partial<Record<RequestPart, ObjectSchema>>;
  const parameters = [...parametersOf(schemas.params, 'path'), ...parametersOf(schemas.query, 'query')];
  const responses: OpenApiOperation['responses'] = {};
  for (const [status, response] of Object.entries(spec?.responses ?? {})) {
    responses[status] =
      response.schema === undefined
        ? { description: response.description }
        : { description: response.description, content: { 'application/json': { schema: response.schema } } };
  }
  if (Object.keys(schemas).length > 0) responses['400'] = withInvalidRequest(responses['400']);
  if (Object.keys(responses).length === 0) responses.default = { description: 'not documented' };
  return {
    operationId,
    summary: spec?.summary ?? '(not documented)',
    ...(spec?.description ? { description: spec.description } : {}),
    tags: [tag.replace(/^\/+/, '') || 'default'],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(schemas.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: schemas.body } } } }
      : {}),
    ...(!schemas.body && spec?.rawBody
      ? { requestBody: { required: true, description: spec.rawBody.description, content: { ...spec.rawBody.content } } }
      : {}),
    responses,
  };
}

/** The 400 of an operation with a request schema: the request does not match it, or the 400 the operation declares. */
function withInvalidRequest(
  declared: OpenApiOperation['responses'][string] | undefined,
): OpenApiOperation['responses'][string] {
  const description = 'the request does not match its schema';
  if (!declared) return { description, content: { 'application/json': { schema: invalidRequestBodySchema } } };
  const schema = declared.content
    ? { oneOf: [declared.content['application/json'].schema, invalidRequestBodySchema] }
    : invalidRequestBodySchema;
  return { description: `${declared.description}; or ${description}`, content: { 'application/json': { schema } } };
}

function parametersOf(schema: ObjectSchema | undefined, location: 'path' | 'query'): OpenApiParameter[] {
  if (!schema) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const description =
      typeof property === 'object' && typeof property.description === 'string' ? property.description : undefined;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: property,
    };
  });
}

/** `GET /openapi.json` (the document) and `GET /docs` (the same, as a page for people). */
@Controller()
export class OpenApiController {
  constructor(private readonly openApi: OpenApiService) {}

  @Get('openapi.json')
  document(): OpenApiDocument {
    return this.openApi.get();
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  docs(): string {
    return renderDocsPage(this.openApi.get());
  }
}
Reflect.defineMetadata(EXCLUDED, true, OpenApiController);

/** What every service imports to serve its OpenAPI document and docs page. */
@Module({})
export class HttpApiModule {
  static forRoot(options: HttpApiOptions): DynamicModule {
    return {
      module: HttpApiModule,
      imports: [DiscoveryModule],
      controllers: [OpenApiController],
      providers: [{ provide: HTTP_API_OPTIONS, useValue: options }, OpenApiService],
      exports: [OpenApiService],
    };
  }
}
