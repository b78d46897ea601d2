import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { CloudEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { rollbackTarget } from '../../domain/alias-history';
import { type AliasHistoryEntry, CatalogStore } from '../../infrastructure/catalog-store';
import { type NotFound, modelNotFound } from '../errors';
import { Promotion } from '../promotion';

export type RollbackError = NotFound | DomainError<'alias_not_found' | 'no_rollback_target'>;

/**
 * Moves an alias back to the version it pointed at before the current one was promoted (its history, not
 * "version minus one"), skipping versions marked bad. Used by people (HTTP) and by the degraded-model policy.
 */
@Injectable()
export class RollbackAliasService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly promotion: Promotion,
  ) {}

  rollback(
    request: { model: string; alias: string; reason: string },
    actor: string,
    now = new Date(),
  ): Promise<Result<AliasHistoryEntry, RollbackError>> {
    return this.dataSource.transaction((manager) => this.rollbackIn(manager, request, actor, now));
  }

  async rollbackIn(
    manager: EntityManager,
    request: { model: string; alias: string; reason: string },
    actor: string,
    now: Date,
    causedBy?: Pick<CloudEvent, 'id' | 'correlationid'>,
  ): Promise<Result<AliasHistoryEntry, RollbackError>> {
    const model = await this.catalog.findModel(manager, request.model, true);
    if (!model) return err(modelNotFound(request.model));
    const current = await this.catalog.findAlias(manager, request.model, request.alias);
    if (!current) {
      return err(domainError('alias_not_found', `model ${request.model} has no alias ${request.alias}`));
    }
    const history = await this.catalog.aliasHistory(manager, request.model, request.alias);
    const versions = await this.catalog.listVersions(manager, { model: request.model, limit: 100_000 });
    const bad = new Set(versions.filter((v) => v.bad !== null).map((v) => v.version));
    const target = rollbackTarget(history, (version) => bad.has(version));
    const version = target === undefined ? undefined : versions.find((v) => v.version === target);
    if (!version) {
      return err(
        domainError(
          'no_rollback_target',
          `alias ${request.alias} of ${request.model} has no earlier version to go back to (it points at ${current.version})`,
          { model: request.model, alias: request.alias, version: current.version },
        ),
      );
    }
    const moved = await this.promotion.moveAlias(
      manager,
      version,
      {
        alias: request.alias,
        trigger: 'rollback',
        reason: `rolled back from version ${current.version} to ${version.version}: ${request.reason}`,
        gate: null,
        actor,
        causedBy,
      },
      now,
    );
    return ok(moved.entry);
  }
}
