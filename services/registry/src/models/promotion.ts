import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventTypes, type ModelPromotedV1 } from '@mlops/contracts';
import { type CloudEvent, enqueueInOutbox, newEvent } from '@mlops/messaging';
import type { GateDecision } from '../domain/policy';
import { type AliasHistoryEntry, CatalogStore, type VersionRecord } from '../infrastructure/catalog-store';
import { PG_SCHEMA, SOURCE } from '../tokens';

export interface AliasMoveRequest {
  readonly alias: string;
  readonly trigger: ModelPromotedV1['trigger'];
  readonly reason: string;
  readonly gate: ModelPromotedV1['gate'];
  readonly actor: string;
  readonly causedBy?: Pick<CloudEvent, 'id' | 'correlationid'> | undefined;
}

/** The gate object of `model.promoted` from a decision. */
export function promotedGateOf(decision: GateDecision, overridden = false): NonNullable<ModelPromotedV1['gate']> {
  return {
    decision: overridden ? 'overridden' : 'passed',
    metric: decision.metric,
    higherIsBetter: decision.higherIsBetter,
    candidateValue: decision.candidateValue ?? Number.NaN,
    baselineValue: decision.baselineValue,
    baselineVersion: decision.baselineVersion,
    minImprovement: decision.minImprovement,
  };
}

/**
 * Moves an alias in the caller's transaction: the alias row, a line of its history, the version's status, the
 * audit log, and `mlops.model.promoted.v1` through the outbox (published if and only if the transaction commits).
 */
@Injectable()
export class Promotion {
  constructor(private readonly catalog: CatalogStore) {}

  async moveAlias(
    manager: EntityManager,
    version: VersionRecord,
    request: AliasMoveRequest,
    now: Date,
  ): Promise<{ entry: AliasHistoryEntry; event: CloudEvent<typeof EventTypes.ModelPromotedV1> }> {
    const current = await this.catalog.findAlias(manager, version.model, request.alias);
    const eventId = randomUUID();
    const reason = request.reason.slice(0, 2000);
    const entry = await this.catalog.moveAlias(
      manager,
      {
        model: version.model,
        alias: request.alias,
        version: version.version,
        previousVersion: current?.version ?? null,
        trigger: request.trigger,
        reason,
        gate: request.gate,
        actor: request.actor,
        eventId,
      },
      now,
    );
    if (version.status !== 'bad') {
      await this.catalog.setVersionState(manager, version.model, version.version, { status: 'promoted' });
    }
    await this.catalog.audit(
      manager,
      {
        actor: request.actor,
        action: `alias_${request.trigger === 'rollback' ? 'rolled_back' : 'moved'}`,
        model: version.model,
        version: version.version,
        alias: request.alias,
        reason,
        details: { trigger: request.trigger, previousVersion: current?.version ?? null, eventId },
      },
      now,
    );
    const data: ModelPromotedV1 = {
      model: version.model,
      alias: request.alias,
      version: version.version,
      previousVersion: current?.version ?? null,
      trigger: request.trigger,
      reason,
      gate: request.gate,
      artifact: version.artifact,
      signature: {
        inputName: version.signature.inputName,
        inputDtype: version.signature.inputDtype,
        featureNames: [...version.signature.featureNames],
        outputName: version.signature.outputName,
        ...(version.signature.inputs
          ? { inputs: version.signature.inputs.map((input) => ({ ...input, features: [...input.features] })) }
          : {}),
        ...(version.signature.outputs
          ? { outputs: version.signature.outputs.map((output) => ({ ...output, shape: [...output.shape] })) }
          : {}),
      },
      featureView: version.featureView,
      promotedBy: request.actor.slice(0, 200),
      promotedAt: now.toISOString(),
    };
    const event = newEvent(EventTypes.ModelPromotedV1, data, {
      source: SOURCE,
      id: eventId,
      subject: `${version.model}/${request.alias}`,
      time: now,
      ...(request.causedBy ? { causedBy: request.causedBy } : {}),
    });
    await enqueueInOutbox(manager, PG_SCHEMA, event);
    return { entry, event };
  }
}
