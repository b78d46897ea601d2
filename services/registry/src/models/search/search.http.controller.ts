import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidParams, ValidQuery, errorResponse, respond } from '@mlops/http';
import type { AliasHistoryEntry, AuditRecord, VersionRecord } from '../../infrastructure/catalog-store';
import {
  type AliasParams,
  type ModelParams,
  type VersionParams,
  aliasParams,
  modelParams,
  versionParams,
} from '../params';
import { CatalogQueries, type ModelView } from './catalog-queries.service';
import {
  type AuditQuery,
  type ListModelsQuery,
  type ListVersionsQuery,
  auditQuery,
  listModelsQuery,
  listVersionsQuery,
} from './search.request';

const list = (description: string) => ({ description, schema: { type: 'array', items: { type: 'object' } } });
const one = (description: string) => ({ description, schema: { type: 'object' } });
const limitOf = (limit: string | undefined): number => (limit === undefined ? 100 : Number(limit));
const numberOf = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));

/** Reads of the catalog (role reader): models, versions, alias history, audit log. */
@Controller()
@RequireRole('reader')
export class SearchHttpController {
  constructor(private readonly queries: CatalogQueries) {}

  @Get('models')
  @Operation({
    summary: 'List and search models (name part, tag key[:value], alias)',
    responses: { 200: list('models') },
  })
  listModels(@ValidQuery(listModelsQuery) query: ListModelsQuery): Promise<ModelView[]> {
    return this.queries.listModels({
      name: query.name,
      tag: query.tag,
      alias: query.alias,
      limit: limitOf(query.limit),
    });
  }

  @Get('models/:name')
  @Operation({
    summary: 'A model: description, owner, tags, policy (and the one in effect), aliases',
    responses: { 200: one('the model'), 404: errorResponse('no such model', 'model_not_found') },
  })
  async getModel(@ValidParams(modelParams) params: ModelParams): Promise<ModelView> {
    return respond(await this.queries.getModel(params.name), { model_not_found: 404, version_not_found: 404 });
  }

  @Get('versions')
  @Operation({
    summary: 'Search versions of every model (model, status, alias, tag, metric with min/max)',
    responses: { 200: list('versions, newest first per model') },
  })
  searchVersions(@ValidQuery(listVersionsQuery) query: ListVersionsQuery): Promise<VersionRecord[]> {
    return this.queries.listVersions(this.filterOf(query));
  }

  @Get('models/:name/versions')
  @Operation({
    summary: 'Versions of a model, newest first, with the same filters',
    responses: { 200: list('versions') },
  })
  listVersions(
    @ValidParams(modelParams) params: ModelParams,
    @ValidQuery(listVersionsQuery) query: ListVersionsQuery,
  ): Promise<VersionRecord[]> {
    return this.queries.listVersions({ ...this.filterOf(query), model: params.name });
  }

  @Get('models/:name/versions/:version')
  @Operation({
    summary: 'A version: artifact, signature, metrics and slices, params, lineage, status, gate decision, aliases',
    responses: {
      200: one('the version'),
      404: errorResponse('no such model or version', ['model_not_found', 'version_not_found']),
    },
  })
  async getVersion(@ValidParams(versionParams) params: VersionParams): Promise<VersionRecord> {
    return respond(await this.queries.getVersion(params.name, Number(params.version)), {
      model_not_found: 404,
      version_not_found: 404,
    });
  }

  @Get('models/:name/aliases/:alias/history')
  @Operation({
    summary: 'Every move of an alias, oldest first: version, previous version, trigger, reason, who, when',
    responses: {
      200: list('moves'),
      404: errorResponse('no such model or alias', ['model_not_found', 'alias_not_found']),
    },
  })
  async aliasHistory(@ValidParams(aliasParams) params: AliasParams): Promise<AliasHistoryEntry[]> {
    return respond(await this.queries.aliasHistory(params.name, params.alias), {
      model_not_found: 404,
      version_not_found: 404,
      alias_not_found: 404,
    });
  }

  @Get('models/:name/audit')
  @Operation({
    summary: "The model's audit log, newest first: who, when, what, why",
    responses: { 200: list('entries'), 404: errorResponse('no such model', 'model_not_found') },
  })
  async audit(
    @ValidParams(modelParams) params: ModelParams,
    @ValidQuery(auditQuery) query: AuditQuery,
  ): Promise<AuditRecord[]> {
    return respond(await this.queries.audit(params.name, limitOf(query.limit)), {
      model_not_found: 404,
      version_not_found: 404,
    });
  }

  private filterOf(query: ListVersionsQuery) {
    return {
      model: query.model,
      status: query.status,
      alias: query.alias,
      tag: query.tag,
      metric: query.metric,
      metricMin: numberOf(query.min),
      metricMax: numberOf(query.max),
      limit: limitOf(query.limit),
    };
  }
}
