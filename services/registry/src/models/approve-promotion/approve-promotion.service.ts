import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Principal } from '@mlops/auth';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import { defaultPolicy, evaluateGate } from '../../domain/policy';
import { type AliasHistoryEntry, CatalogStore } from '../../infrastructure/catalog-store';
import { type NotFound, versionNotFound } from '../errors';
import { Promotion, promotedGateOf } from '../promotion';

export type ApproveError =
  NotFound | DomainError<'no_pending_promotion' | 'version_marked_bad' | 'gate_no_longer_passes'>;

/** A person approves the pending promotion of a version that passed the gate: the alias moves (trigger gate). */
@Injectable()
export class ApprovePromotionService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly promotion: Promotion,
  ) {}

  async approve(
    request: { model: string; version: number; reason: string },
    actor: Principal,
    now = new Date(),
  ): Promise<Result<AliasHistoryEntry, ApproveError>> {
    return this.dataSource.transaction(async (manager) => {
      const model = await this.catalog.findModel(manager, request.model, true);
      const version = model && (await this.catalog.findVersion(manager, request.model, request.version, true));
      if (!model || !version) return err(versionNotFound(request.model, request.version));
      const pending = await this.catalog.pendingRequest(manager, request.model, request.version);
      if (!pending) {
        return err(
          domainError(
            'no_pending_promotion',
            `version ${request.version} of ${request.model} has no promotion waiting for approval (status ${version.status})`,
            { model: request.model, version: request.version, status: version.status },
          ),
        );
      }
      if (version.bad) {
        return err(
          domainError('version_marked_bad', `version ${version.version} of ${version.model} is marked bad`, {
            bad: version.bad,
          }),
        );
      }
      // The alias may have moved since the gate ran: the candidate must still beat what it points at now.
      const policy = model.policy ?? defaultPolicy(model.task);
      const current = await this.catalog.findAlias(manager, model.name, pending.alias);
      const baseline = current && (await this.catalog.findVersion(manager, model.name, current.version));
      const decision = evaluateGate(
        { ...policy, alias: pending.alias },
        {
          version: version.version,
          metrics: version.metrics,
          slices: version.sliceMetrics,
          champion: version.champion,
        },
        baseline && baseline.version !== version.version
          ? { version: baseline.version, metrics: baseline.metrics }
          : null,
      );
      if (!decision.passed) {
        return err(
          domainError('gate_no_longer_passes', `the gate no longer passes: ${decision.reason}`, {
            checks: decision.checks,
          }),
        );
      }
      await this.catalog.decideRequest(manager, pending.id, actor.name, now);
      const moved = await this.promotion.moveAlias(
        manager,
        version,
        {
          alias: pending.alias,
          trigger: 'gate',
          reason: `approved by ${actor.name}: ${request.reason} (${decision.reason})`,
          gate: promotedGateOf(decision),
          actor: actor.name,
        },
        now,
      );
      return ok(moved.entry);
    });
  }
}
