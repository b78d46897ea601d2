import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '@mlops/auth';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import { type AliasRecord, CatalogStore, type ModelRecord, type VersionRecord } from '../infrastructure/catalog-store';
import { modelNotFound, versionNotFound } from '../models/errors';
import { ALIAS_NAME, MODEL_NAME } from '../models/params';
import { SetAliasService } from '../models/set-alias/set-alias.service';
import { type FilterClause, matchesAll, offsetOf, pageTokenOf, parseFilter } from './mlflow-filter';
import type { MlflowErrorKind } from './mlflow-http';
import { latestPerStage, modelVersionView, registeredModelView, runIdOf, versionTagsOf } from './mlflow-views';

export type MlflowError = DomainError<MlflowErrorKind>;
type Json = Record<string, unknown>;

/** Every model or version a search looks through (searches filter in memory, like the trainer's run search). */
const SCAN_LIMIT = 10_000;
/** MLflow's own bounds: 1000 registered models, 200000 versions per page (the client asks for 10000 by default). */
const MAX_MODEL_RESULTS = 1000;
const MAX_VERSION_RESULTS = 200_000;
const MODEL_PATTERN = new RegExp(MODEL_NAME.pattern);
const ALIAS_PATTERN = new RegExp(ALIAS_NAME.pattern);

const invalid = (message: string): MlflowError => domainError('invalid_parameter', message);

/** How to register a version here, for the refusals of MLflow's create calls. */
export const HOW_TO_REGISTER =
  'versions are immutable and registered by the registry itself: from the trainer (mlops.model.trained.v1, one ' +
  'version per training run: POST /training-runs on the trainer) or by uploading an ONNX file trained elsewhere ' +
  '(POST /models/<name>/versions on the registry, see its README); a model is created with POST /models/<name>';

/** MLflow's Model Registry API over our catalog: reads, model tags, and aliases set through our promotion. */
@Injectable()
export class MlflowRegistryService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly setAlias: SetAliasService,
  ) {}

  private get manager(): EntityManager {
    return this.dataSource.manager;
  }

  async getModel(name: string): Promise<Result<Json, MlflowError>> {
    const model = await this.catalog.findModel(this.manager, name);
    if (!model) return err(modelNotFound(name));
    return ok(await this.modelView(model));
  }

  async searchModels(
    filter: string | undefined,
    maxResults: number | undefined,
    pageToken: string | undefined,
  ): Promise<Result<{ registered_models: Json[]; next_page_token?: string }, MlflowError>> {
    const clauses = parseFilter(filter, ['name']);
    if (!clauses.ok) return clauses;
    const models = (await this.catalog.listModels(this.manager, { limit: SCAN_LIMIT })).filter((model) =>
      matchesAll(clauses.value, (clause) => (clause.kind === 'tag' ? model.tags[clause.key] : model.name)),
    );
    const page = pageOf(models, maxResults, pageToken, MAX_MODEL_RESULTS);
    if (!page.ok) return page;
    return ok({
      registered_models: await Promise.all(page.value.items.map((model) => this.modelView(model))),
      ...nextToken(page.value.next),
    });
  }

  async latestVersions(name: string, stages: readonly string[]): Promise<Result<Json[], MlflowError>> {
    const model = await this.catalog.findModel(this.manager, name);
    if (!model) return err(modelNotFound(name));
    const { aliases, versions } = await this.versionsOf(name);
    return ok(latestPerStage(versions, aliases, stages).map((v) => modelVersionView(v, aliases)));
  }

  /** Sets (`value` given) or deletes a tag of the model, audited like PATCH /models/:name. */
  async changeModelTag(
    name: string,
    key: string,
    value: string | undefined,
    actor: Principal,
    now = new Date(),
  ): Promise<Result<Json, MlflowError>> {
    if (!/^[A-Za-z0-9_.:/-]{1,128}$/.test(key)) {
      return err(invalid(`Invalid tag key '${key}': letters, digits and _ . : / - (at most 128)`));
    }
    return this.dataSource.transaction(async (manager) => {
      const model = await this.catalog.findModel(manager, name, true);
      if (!model) return err(modelNotFound(name));
      const tags = { ...model.tags };
      if (value === undefined) delete tags[key];
      else tags[key] = value;
      await this.catalog.updateModel(manager, name, { tags }, now);
      await this.catalog.audit(
        manager,
        {
          actor: actor.name,
          action: 'model_updated',
          model: name,
          reason: value === undefined ? `MLflow: tag ${key} deleted` : `MLflow: tag ${key} set`,
          details: { tags, via: 'mlflow' },
        },
        now,
      );
      return ok({});
    });
  }

  /** MLflow's set alias is our manual promotion (PUT /models/:name/aliases/:alias) with the same checks, no override. */
  async setModelAlias(
    name: string,
    alias: string,
    version: string | number,
    actor: Principal,
  ): Promise<Result<Json, MlflowError>> {
    if (!ALIAS_PATTERN.test(alias)) {
      return err(invalid(`Invalid alias '${alias}': lowercase letters, digits and '-', starting with a letter`));
    }
    const number = versionNumber(version);
    if (!number.ok) return number;
    if (!MODEL_PATTERN.test(name)) return err(modelNotFound(name));
    const moved = await this.setAlias.set(
      {
        model: name,
        alias,
        version: number.value,
        reason: `set through the MLflow API (set_registered_model_alias) by ${actor.name}`,
        override: false,
      },
      actor,
    );
    if (!moved.ok) return moved;
    return ok({});
  }

  async versionByAlias(name: string, alias: string): Promise<Result<Json, MlflowError>> {
    const model = await this.catalog.findModel(this.manager, name);
    if (!model) return err(modelNotFound(name));
    const found = await this.catalog.findAlias(this.manager, name, alias);
    if (!found) return err(domainError('alias_not_found', `Registered model alias ${alias} not found.`));
    return this.getVersion(name, found.version);
  }

  async getVersion(name: string, version: string | number): Promise<Result<Json, MlflowError>> {
    const number = versionNumber(version);
    if (!number.ok) return number;
    const found = await this.catalog.findVersion(this.manager, name, number.value);
    if (!found) return err(versionNotFound(name, number.value));
    return ok(modelVersionView(found, await this.catalog.aliasesOf(this.manager, name)));
  }

  async searchVersions(
    filter: string | undefined,
    maxResults: number | undefined,
    pageToken: string | undefined,
  ): Promise<Result<{ model_versions: Json[]; next_page_token?: string }, MlflowError>> {
    const clauses = parseFilter(filter, ['name', 'run_id', 'version_number', 'source_path']);
    if (!clauses.ok) return clauses;
    const byName = clauses.value.find((c) => c.kind === 'attribute' && c.key === 'name' && c.op === '=');
    const versions = await this.catalog.listVersions(this.manager, {
      ...(byName ? { model: byName.values[0] } : {}),
      limit: SCAN_LIMIT,
    });
    const aliasesByModel = new Map<string, AliasRecord[]>();
    for (const model of new Set(versions.map((v) => v.model))) {
      aliasesByModel.set(model, await this.catalog.aliasesOf(this.manager, model));
    }
    // run_id: MLflow's form (no dashes); our training run id with dashes matches too.
    const normalized = clauses.value.map((c) =>
      c.kind === 'attribute' && c.key === 'run_id' ? { ...c, values: c.values.map((v) => v.replace(/-/g, '')) } : c,
    );
    const matching = versions.filter((version) => matchesAll(normalized, (clause) => attributeOf(version, clause)));
    const page = pageOf(matching, maxResults, pageToken, MAX_VERSION_RESULTS);
    if (!page.ok) return page;
    return ok({
      model_versions: page.value.items.map((v) => modelVersionView(v, aliasesByModel.get(v.model) ?? [])),
      ...nextToken(page.value.next),
    });
  }

  /** Where the client fetches the ONNX file: our artifact download (a bearer token is needed as for every read). */
  async downloadUri(name: string, version: string | number, baseUrl: string): Promise<Result<Json, MlflowError>> {
    const number = versionNumber(version);
    if (!number.ok) return number;
    const found = await this.catalog.findVersion(this.manager, name, number.value);
    if (!found) return err(versionNotFound(name, number.value));
    return ok({ artifact_uri: `${baseUrl}/models/${encodeURIComponent(name)}/versions/${found.version}/artifact` });
  }

  private async versionsOf(name: string): Promise<{ aliases: AliasRecord[]; versions: VersionRecord[] }> {
    return {
      aliases: await this.catalog.aliasesOf(this.manager, name),
      versions: await this.catalog.listVersions(this.manager, { model: name, limit: SCAN_LIMIT }),
    };
  }

  private async modelView(model: ModelRecord): Promise<Json> {
    const { aliases, versions } = await this.versionsOf(model.name);
    return registeredModelView(model, aliases, versions);
  }
}

function attributeOf(version: VersionRecord, clause: FilterClause): string | undefined {
  if (clause.kind === 'tag') return versionTagsOf(version)[clause.key];
  switch (clause.key) {
    case 'name':
      return version.model;
    case 'version_number':
      return String(version.version);
    case 'source_path':
      return version.artifact.uri;
    default:
      return runIdOf(version);
  }
}

function versionNumber(version: string | number): Result<number, MlflowError> {
  const text = String(version);
  return /^[1-9][0-9]{0,8}$/.test(text)
    ? ok(Number(text))
    : err(invalid(`Invalid model version '${text}': a positive integer`));
}

function pageOf<T>(
  items: readonly T[],
  maxResults: number | undefined,
  pageToken: string | undefined,
  limit: number,
): Result<{ items: T[]; next: number | null }, MlflowError> {
  const max = maxResults ?? 100;
  if (!Number.isInteger(max) || max < 1 || max > limit) {
    return err(invalid(`Invalid max_results ${String(maxResults)}: between 1 and ${limit}`));
  }
  const offset = offsetOf(pageToken);
  if (!offset.ok) return offset;
  const end = offset.value + max;
  return ok({ items: items.slice(offset.value, end), next: end < items.length ? end : null });
}

const nextToken = (next: number | null): { next_page_token?: string } =>
  next === null ? {} : { next_page_token: pageTokenOf(next) };
