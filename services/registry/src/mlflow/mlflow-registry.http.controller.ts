import { All, Controller, Delete, Get, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { Audited, CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { domainError, err } from '@mlops/core';
import { ExcludeFromDocs, Operation } from '@mlops/http';
import {
  MlflowBody,
  MlflowExceptionFilter,
  MlflowQuery,
  mlflowError,
  mlflowErrorResponse,
  mlflowRespond,
} from './mlflow-http';
import { HOW_TO_REGISTER, MlflowRegistryService } from './mlflow-registry.service';
import {
  type AliasRequest,
  type CreateModelBody,
  type CreateVersionBody,
  type DeleteModelTagBody,
  type LatestVersionsRequest,
  type ModelNameQuery,
  type SearchQuery,
  type SetAliasBody,
  type SetModelTagBody,
  type VersionQuery,
  type VersionTagBody,
  aliasRequest,
  createModelBody,
  createVersionBody,
  deleteModelTagBody,
  latestVersionsRequest,
  modelNameQuery,
  searchQuery,
  setAliasBody,
  setModelTagBody,
  versionQuery,
  versionTagBody,
} from './mlflow.request';

const notFound = mlflowErrorResponse('RESOURCE_DOES_NOT_EXIST');
const invalid = mlflowErrorResponse('INVALID_PARAMETER_VALUE');
const disabled = mlflowErrorResponse('FEATURE_DISABLED, with how to do it here');
const read = (what: string) => ({ 200: { description: what }, 400: invalid, 404: notFound });

const integer = (value: string | number | undefined): number | undefined =>
  value === undefined ? undefined : Number(value);
const list = (value: string | readonly string[] | undefined): string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : [...value];

/** Where this registry answers, as the client reached it (for download URIs). */
function baseUrlOf(request: { protocol: string; headers: Record<string, string | string[] | undefined> }): string {
  const host = request.headers.host;
  return `${request.protocol}://${typeof host === 'string' ? host : 'localhost'}`;
}

const disabledError = (message: string) => mlflowRespond(err(domainError('feature_disabled', message)));

/**
 * MLflow's Model Registry REST API over our registry, for `MlflowClient(registry_uri=<registry>)` with
 * MLFLOW_TRACKING_TOKEN set to one of our tokens. Reads need `reader`, aliases `promoter`, model tags `data-steward`.
 */
@Controller(['api/2.0/mlflow', 'ajax-api/2.0/mlflow'])
@RequireRole('reader')
@UseFilters(MlflowExceptionFilter)
export class MlflowRegistryHttpController {
  constructor(private readonly service: MlflowRegistryService) {}

  @Get('registered-models/get')
  @Operation({ summary: 'MLflow: a registered model', responses: read('{registered_model}') })
  async getModel(@MlflowQuery(modelNameQuery) query: ModelNameQuery) {
    return { registered_model: mlflowRespond(await this.service.getModel(query.name)) };
  }

  @Get('registered-models/search')
  @Operation({
    summary: "MLflow: search registered models (filter: name = / LIKE / ILIKE, tags.<key>; AND'ed)",
    responses: read('{registered_models, next_page_token}'),
  })
  async searchModels(@MlflowQuery(searchQuery) query: SearchQuery) {
    return mlflowRespond(await this.service.searchModels(query.filter, integer(query.max_results), query.page_token));
  }

  @Post('registered-models/get-latest-versions')
  @HttpCode(200)
  @Operation({
    summary: 'MLflow: the newest version per stage (stages read from aliases production / staging)',
    responses: read('{model_versions}'),
  })
  async latestVersionsPost(@MlflowBody(latestVersionsRequest) body: LatestVersionsRequest) {
    return { model_versions: mlflowRespond(await this.service.latestVersions(body.name, list(body.stages))) };
  }

  @Get('registered-models/get-latest-versions')
  @Operation({ summary: 'MLflow: the newest version per stage (GET form)', responses: read('{model_versions}') })
  async latestVersionsGet(@MlflowQuery(latestVersionsRequest) query: LatestVersionsRequest) {
    return { model_versions: mlflowRespond(await this.service.latestVersions(query.name, list(query.stages))) };
  }

  @Post('registered-models/set-tag')
  @HttpCode(200)
  @RequireRole('data-steward')
  @Audited()
  @Operation({ summary: 'MLflow: set a tag of a registered model', responses: read('{}') })
  async setModelTag(@MlflowBody(setModelTagBody) body: SetModelTagBody, @CurrentPrincipal() actor: Principal) {
    return mlflowRespond(await this.service.changeModelTag(body.name, body.key, body.value, actor));
  }

  @Delete('registered-models/delete-tag')
  @RequireRole('data-steward')
  @Audited()
  @Operation({ summary: 'MLflow: delete a tag of a registered model', responses: read('{}') })
  async deleteModelTag(@MlflowBody(deleteModelTagBody) body: DeleteModelTagBody, @CurrentPrincipal() actor: Principal) {
    return mlflowRespond(await this.service.changeModelTag(body.name, body.key, undefined, actor));
  }

  @Post('registered-models/alias')
  @HttpCode(200)
  @RequireRole('promoter')
  @Audited()
  @Operation({
    summary: 'MLflow: set an alias = our manual promotion (model.promoted); a version marked bad is INVALID_STATE',
    responses: {
      200: { description: '{}' },
      400: mlflowErrorResponse('INVALID_STATE, INVALID_PARAMETER_VALUE'),
      404: notFound,
    },
  })
  async setAlias(@MlflowBody(setAliasBody) body: SetAliasBody, @CurrentPrincipal() actor: Principal) {
    return mlflowRespond(await this.service.setModelAlias(body.name, body.alias, body.version, actor));
  }

  @Delete('registered-models/alias')
  @RequireRole('promoter')
  @Audited()
  @Operation({
    summary: 'MLflow: delete an alias (not supported: aliases move, they are not removed)',
    responses: { 400: disabled },
  })
  deleteAlias(@MlflowBody(aliasRequest) body: AliasRequest) {
    return disabledError(
      `alias ${body.alias} of ${body.name} cannot be deleted: our aliases keep their history and only move; ` +
        `move it with set_registered_model_alias or roll it back with POST /models/${body.name}/aliases/${body.alias}/rollback`,
    );
  }

  @Get('registered-models/alias')
  @Operation({ summary: 'MLflow: the version an alias points at', responses: read('{model_version}') })
  async versionByAlias(@MlflowQuery(aliasRequest) query: AliasRequest) {
    return { model_version: mlflowRespond(await this.service.versionByAlias(query.name, query.alias)) };
  }

  @Post('registered-models/create')
  @HttpCode(200)
  @RequireRole('data-steward')
  @Operation({
    summary: 'MLflow: create a registered model (refused: FEATURE_DISABLED, says how)',
    responses: { 400: disabled },
  })
  createModel(@MlflowBody(createModelBody) body: CreateModelBody) {
    return disabledError(
      `registered models are created here with their task and promotion policy: POST /models/${body.name} ` +
        `{task, reason, policy?}, or by their first trained or uploaded version; ${HOW_TO_REGISTER}`,
    );
  }

  @Post('model-versions/create')
  @HttpCode(200)
  @RequireRole('data-steward')
  @Operation({
    summary: 'MLflow: create a model version (refused: FEATURE_DISABLED, says how)',
    responses: { 400: disabled },
  })
  createVersion(@MlflowBody(createVersionBody) body: CreateVersionBody) {
    return disabledError(`model versions of ${body.name} cannot be created through MLflow: ${HOW_TO_REGISTER}`);
  }

  @Get('model-versions/get')
  @Operation({ summary: 'MLflow: a model version', responses: read('{model_version}') })
  async getVersion(@MlflowQuery(versionQuery) query: VersionQuery) {
    return { model_version: mlflowRespond(await this.service.getVersion(query.name, query.version)) };
  }

  @Get('model-versions/search')
  @Operation({
    summary: "MLflow: search model versions (filter: name, run_id, version_number, tags.<key>; AND'ed)",
    responses: read('{model_versions, next_page_token}'),
  })
  async searchVersions(@MlflowQuery(searchQuery) query: SearchQuery) {
    return mlflowRespond(await this.service.searchVersions(query.filter, integer(query.max_results), query.page_token));
  }

  @Get('model-versions/get-download-uri')
  @Operation({
    summary: "MLflow: where to download the version's ONNX file (our artifact download, bearer token needed)",
    responses: read('{artifact_uri}'),
  })
  async downloadUri(
    @MlflowQuery(versionQuery) query: VersionQuery,
    @Req() request: { protocol: string; headers: Record<string, string | string[] | undefined> },
  ) {
    return mlflowRespond(await this.service.downloadUri(query.name, query.version, baseUrlOf(request)));
  }

  @Post('model-versions/set-tag')
  @HttpCode(200)
  @RequireRole('data-steward')
  @Operation({ summary: 'MLflow: set a version tag (refused: versions are immutable)', responses: { 400: disabled } })
  setVersionTag(@MlflowBody(versionTagBody) body: VersionTagBody) {
    return disabledError(
      `version ${String(body.version)} of ${body.name} is immutable, its tags too; tag the registered model ` +
        `(set_registered_model_tag) or give tags when the version is uploaded`,
    );
  }

  @Delete('model-versions/delete-tag')
  @RequireRole('data-steward')
  @Operation({
    summary: 'MLflow: delete a version tag (refused: versions are immutable)',
    responses: { 400: disabled },
  })
  deleteVersionTag(@MlflowBody(versionTagBody) body: VersionTagBody) {
    return disabledError(`version ${String(body.version)} of ${body.name} is immutable, its tags too`);
  }

  @Post('model-versions/transition-stage')
  @HttpCode(200)
  @RequireRole('promoter')
  @Operation({
    summary: 'MLflow: transition a stage (refused: stages are read from aliases)',
    responses: { 400: disabled },
  })
  transitionStage() {
    return disabledError(
      'stages are derived from aliases here (Production = alias production, Staging = alias staging): ' +
        'use set_registered_model_alias, which promotes through the registry',
    );
  }

  /** Any other registry call (rename, update, delete, webhooks, ...): MLflow's answer for an endpoint a server lacks. */
  @All(['registered-models/*rest', 'model-versions/*rest'])
  @ExcludeFromDocs()
  notServed(@Req() request: { method: string; path: string }) {
    throw mlflowError(
      'ENDPOINT_NOT_FOUND',
      `${request.method} ${request.path} is not served by this registry (see the registry README, "MLflow clients")`,
      404,
    );
  }
}
