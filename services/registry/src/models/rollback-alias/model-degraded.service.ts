import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventTypes } from '@mlops/contracts';
import type { CloudEvent } from '@mlops/messaging';
import { defaultPolicy } from '../../domain/policy';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { ROLLBACK_ACTOR } from '../../tokens';
import { RollbackAliasService } from './rollback-alias.service';

type Degraded = typeof EventTypes.ModelDegradedV1;

export type DegradedOutcome = 'rolled_back' | 'not_allowed' | 'stale' | 'unknown_model' | 'no_target';

/**
 * `mlops.model.degraded.v1`: when the model's policy allows it and the alias still points at the degraded version,
 * the alias goes back (trigger rollback, the live metric in the reason); otherwise the audit log says why not.
 */
@Injectable()
export class ModelDegradedService {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly rollbacks: RollbackAliasService,
  ) {}

  async onDegraded(event: CloudEvent<Degraded>, manager: EntityManager, now = new Date()): Promise<DegradedOutcome> {
    const degraded = event.data;
    const model = await this.catalog.findModel(manager, degraded.model, true);
    if (!model) return 'unknown_model';
    const policy = model.policy ?? defaultPolicy(model.task);
    const current = await this.catalog.findAlias(manager, degraded.model, degraded.alias);
    const measured = `live ${degraded.metric} ${degraded.value} ${degraded.higherIsBetter ? 'below' : 'above'} ${degraded.threshold} over ${degraded.window.start}..${degraded.window.end} (${degraded.labeledCount} labelled predictions)`;
    const skip = async (outcome: DegradedOutcome, why: string): Promise<DegradedOutcome> => {
      await this.catalog.audit(
        manager,
        {
          actor: ROLLBACK_ACTOR,
          action: 'rollback_skipped',
          model: degraded.model,
          version: degraded.version,
          alias: degraded.alias,
          reason: `${why}; ${measured}`,
          details: { eventId: event.id },
        },
        now,
      );
      return outcome;
    };
    if (current?.version !== degraded.version) {
      return skip(
        'stale',
        `alias ${degraded.alias} points at ${current?.version ?? 'nothing'}, not at the degraded version`,
      );
    }
    if (!policy.autoRollback) return skip('not_allowed', 'the promotion policy does not allow automatic rollback');
    const rolled = await this.rollbacks.rollbackIn(
      manager,
      { model: degraded.model, alias: degraded.alias, reason: `version ${degraded.version} degraded: ${measured}` },
      ROLLBACK_ACTOR,
      now,
      event,
    );
    if (!rolled.ok) return skip('no_target', rolled.error.message);
    return 'rolled_back';
  }
}
