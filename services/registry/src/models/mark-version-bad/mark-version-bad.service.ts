import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Principal } from '@mlops/auth';
import { type Result, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import { type BadMark, CatalogStore } from '../../infrastructure/catalog-store';
import { type NotFound, versionNotFound } from '../errors';

/** Marks a version bad: neither the gate, an approval nor a rollback promotes it again; a person can with override. */
@Injectable()
export class MarkVersionBadService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
  ) {}

  async mark(
    request: { model: string; version: number; reason: string },
    actor: Principal,
    now = new Date(),
  ): Promise<Result<BadMark, NotFound>> {
    return this.dataSource.transaction(async (manager) => {
      const version = await this.catalog.findVersion(manager, request.model, request.version, true);
      if (!version) return err(versionNotFound(request.model, request.version));
      const bad: BadMark = { reason: request.reason, by: actor.name, at: now.toISOString() };
      await this.catalog.setVersionState(manager, request.model, request.version, { status: 'bad', bad });
      await this.catalog.audit(
        manager,
        {
          actor: actor.name,
          action: 'version_marked_bad',
          model: request.model,
          version: request.version,
          reason: request.reason,
        },
        now,
      );
      return ok(bad);
    });
  }
}
