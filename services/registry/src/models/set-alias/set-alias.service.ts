import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Principal } from '@mlops/auth';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import { type AliasHistoryEntry, CatalogStore } from '../../infrastructure/catalog-store';
import { type NotFound, modelNotFound, versionNotFound } from '../errors';
import { Promotion, promotedGateOf } from '../promotion';

export type SetAliasError = NotFound | DomainError<'version_marked_bad'>;

/** A person points an alias at a version (manual promotion), with a reason; a version marked bad needs `override`. */
@Injectable()
export class SetAliasService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly promotion: Promotion,
  ) {}

  async set(
    request: { model: string; alias: string; version: number; reason: string; override: boolean },
    actor: Principal,
    now = new Date(),
  ): Promise<Result<AliasHistoryEntry, SetAliasError>> {
    return this.dataSource.transaction(async (manager) => {
      const model = await this.catalog.findModel(manager, request.model, true);
      if (!model) return err(modelNotFound(request.model));
      const version = await this.catalog.findVersion(manager, request.model, request.version, true);
      if (!version) return err(versionNotFound(request.model, request.version));
      if (version.bad && !request.override) {
        return err(
          domainError(
            'version_marked_bad',
            `version ${version.version} of ${model.name} is marked bad (${version.bad.reason}); send override: true to promote it anyway`,
            { model: model.name, version: version.version, bad: version.bad },
          ),
        );
      }
      // A version the gate kept out, promoted by a person: the event says the gate was overridden.
      // (Without the metric there is no decision to report: gate null.)
      const gate =
        version.gate && !version.gate.passed && version.gate.candidateValue !== null
          ? promotedGateOf(version.gate, true)
          : null;
      const moved = await this.promotion.moveAlias(
        manager,
        version,
        {
          alias: request.alias,
          trigger: 'manual',
          reason: request.override && version.bad ? `${request.reason} (override of a bad mark)` : request.reason,
          gate,
          actor: actor.name,
        },
        now,
      );
      return ok(moved.entry);
    });
  }
}
