import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import { type LineageSources, lineageDocument, modelCard } from '../../domain/lineage';
import { defaultPolicy } from '../../domain/policy';
import {
  type AliasHistoryEntry,
  type AliasRecord,
  type AuditRecord,
  CatalogStore,
  type ModelFilter,
  type ModelRecord,
  type PromotionRequest,
  type VersionFilter,
  type VersionRecord,
} from '../../infrastructure/catalog-store';
import { type NotFound, modelNotFound, versionNotFound } from '../errors';

export interface ModelView extends ModelRecord {
  readonly effectivePolicy: ReturnType<typeof defaultPolicy>;
  readonly aliases: readonly AliasRecord[];
  readonly latestVersion: number | null;
}

/** What people read: models, versions, alias history, audit, lineage and model cards. */
@Injectable()
export class CatalogQueries {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
  ) {}

  private get manager() {
    return this.dataSource.manager;
  }

  async listModels(filter: ModelFilter): Promise<ModelView[]> {
    const models = await this.catalog.listModels(this.manager, filter);
    return Promise.all(models.map((model) => this.viewOf(model)));
  }

  async getModel(name: string): Promise<Result<ModelView, NotFound>> {
    const model = await this.catalog.findModel(this.manager, name);
    return model ? ok(await this.viewOf(model)) : err(modelNotFound(name));
  }

  listVersions(filter: VersionFilter): Promise<VersionRecord[]> {
    return this.catalog.listVersions(this.manager, filter);
  }

  async getVersion(
    name: string,
    version: number,
  ): Promise<Result<VersionRecord & { aliases: string[]; promotionRequests: PromotionRequest[] }, NotFound>> {
    const found = await this.catalog.findVersion(this.manager, name, version);
    if (!found) return err(versionNotFound(name, version));
    const aliases = (await this.catalog.aliasesOf(this.manager, name))
      .filter((alias) => alias.version === version)
      .map((alias) => alias.alias);
    return ok({ ...found, aliases, promotionRequests: await this.catalog.requestsOf(this.manager, name, version) });
  }

  async aliasHistory(
    name: string,
    alias: string,
  ): Promise<Result<AliasHistoryEntry[], NotFound | DomainError<'alias_not_found'>>> {
    const model = await this.catalog.findModel(this.manager, name);
    if (!model) return err(modelNotFound(name));
    const history = await this.catalog.aliasHistory(this.manager, name, alias);
    if (history.length === 0) return err(domainError('alias_not_found', `model ${name} has no alias ${alias}`));
    return ok(history);
  }

  async audit(name: string, limit: number): Promise<Result<AuditRecord[], NotFound>> {
    const model = await this.catalog.findModel(this.manager, name);
    return model ? ok(await this.catalog.auditOf(this.manager, name, limit)) : err(modelNotFound(name));
  }

  async lineage(name: string, version: number): Promise<Result<Record<string, unknown>, NotFound>> {
    const sources = await this.sourcesOf(name, version);
    return sources.ok ? ok(lineageDocument(sources.value)) : sources;
  }

  async card(name: string, version: number): Promise<Result<Record<string, unknown>, NotFound>> {
    const sources = await this.sourcesOf(name, version);
    return sources.ok ? ok(modelCard(sources.value)) : sources;
  }

  private async sourcesOf(name: string, version: number): Promise<Result<LineageSources, NotFound>> {
    const model = await this.catalog.findModel(this.manager, name);
    if (!model) return err(modelNotFound(name));
    const found = await this.catalog.findVersion(this.manager, name, version);
    if (!found) return err(versionNotFound(name, version));
    return ok({
      model,
      version: found,
      deployments: await this.catalog.deploymentsOf(this.manager, name, version),
      aliasHistory: await this.catalog.aliasHistory(this.manager, name),
    });
  }

  private async viewOf(model: ModelRecord): Promise<ModelView> {
    const versions = await this.catalog.listVersions(this.manager, { model: model.name, limit: 1 });
    return {
      ...model,
      effectivePolicy: model.policy ?? defaultPolicy(model.task),
      aliases: await this.catalog.aliasesOf(this.manager, model.name),
      latestVersion: versions[0]?.version ?? null,
    };
  }
}
