import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { CloudEvent } from '@mlops/messaging';
import { type GateDecision, defaultPolicy, evaluateGate } from '../../domain/policy';
import { CatalogStore, type ModelRecord, type VersionRecord } from '../../infrastructure/catalog-store';
import { GATE_ACTOR } from '../../tokens';
import { Promotion, promotedGateOf } from '../promotion';

export type GateOutcome =
  | { readonly outcome: 'promoted'; readonly decision: GateDecision; readonly alias: string }
  | { readonly outcome: 'pending_approval'; readonly decision: GateDecision; readonly alias: string }
  | { readonly outcome: 'rejected'; readonly decision: GateDecision; readonly alias: string };

/**
 * The promotion gate on a new version, in the caller's transaction: compares it with the version the policy's alias
 * points at, then moves the alias (automatic), records a pending promotion (approval), or records why it stayed out.
 */
@Injectable()
export class ApplyGateService {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly promotion: Promotion,
  ) {}

  async apply(
    manager: EntityManager,
    model: ModelRecord,
    version: VersionRecord,
    now: Date,
    causedBy?: Pick<CloudEvent, 'id' | 'correlationid'>,
  ): Promise<GateOutcome> {
    const policy = model.policy ?? defaultPolicy(model.task);
    const current = await this.catalog.findAlias(manager, model.name, policy.alias);
    const baseline = current && (await this.catalog.findVersion(manager, model.name, current.version));
    const decision = evaluateGate(
      policy,
      {
        version: version.version,
        metrics: version.metrics,
        slices: version.sliceMetrics,
        champion: version.champion,
      },
      baseline ? { version: baseline.version, metrics: baseline.metrics } : null,
    );
    const gate = { ...decision, alias: policy.alias, mode: policy.mode, policyIsDefault: model.policy === null };
    if (!decision.passed) {
      await this.catalog.setVersionState(manager, model.name, version.version, { status: 'rejected', gate });
      await this.catalog.audit(
        manager,
        {
          actor: GATE_ACTOR,
          action: 'gate_rejected',
          model: model.name,
          version: version.version,
          alias: policy.alias,
          reason: decision.reason,
          details: { checks: decision.checks },
        },
        now,
      );
      return { outcome: 'rejected', decision, alias: policy.alias };
    }
    if (policy.mode === 'approval') {
      await this.catalog.setVersionState(manager, model.name, version.version, { status: 'pending_approval', gate });
      await this.catalog.requestPromotion(
        manager,
        { model: model.name, version: version.version, alias: policy.alias, gate },
        now,
      );
      await this.catalog.audit(
        manager,
        {
          actor: GATE_ACTOR,
          action: 'promotion_pending_approval',
          model: model.name,
          version: version.version,
          alias: policy.alias,
          reason: `${decision.reason}; the policy needs a person's approval`,
          details: { checks: decision.checks },
        },
        now,
      );
      return { outcome: 'pending_approval', decision, alias: policy.alias };
    }
    await this.catalog.setVersionState(manager, model.name, version.version, { gate });
    await this.promotion.moveAlias(
      manager,
      { ...version, status: 'promoted' },
      {
        alias: policy.alias,
        trigger: 'gate',
        reason: decision.reason,
        gate: promotedGateOf(decision),
        actor: GATE_ACTOR,
        causedBy,
      },
      now,
    );
    return { outcome: 'promoted', decision, alias: policy.alias };
  }
}
