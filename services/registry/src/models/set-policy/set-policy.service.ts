import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Principal } from '@mlops/auth';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import type { PromotionPolicy } from '../../domain/policy';
import { CatalogStore, type ModelRecord } from '../../infrastructure/catalog-store';
import { type NotFound, modelNotFound } from '../errors';
import type { CreateModelRequest, SetPolicyRequest, UpdateModelRequest } from './set-policy.request';

export type ModelExists = DomainError<'model_exists'>;

/** A model's promotion policy and what people say about it (description, owner, tags); every change audited. */
@Injectable()
export class ModelSettingsService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
  ) {}

  /** Registers a model before its first version; a name already registered is a conflict (nothing changes). */
  async create(
    name: string,
    request: CreateModelRequest,
    actor: Principal,
    now = new Date(),
  ): Promise<Result<ModelRecord, ModelExists>> {
    return this.dataSource.transaction(async (manager) => {
      const created = await this.catalog.ensureModel(
        manager,
        {
          name,
          task: request.task,
          owner: request.owner ?? actor.name,
          ...(request.description !== undefined ? { description: request.description } : {}),
          ...(request.tags !== undefined ? { tags: request.tags as Record<string, string> } : {}),
        },
        now,
      );
      if (!created)
        return err(
          domainError('model_exists', `model ${name} is registered already: change it with PATCH or PUT .../policy`, {
            model: name,
          }),
        );
      if (request.policy) await this.catalog.updateModel(manager, name, { policy: policyOf(request.policy) }, now);
      await this.catalog.audit(
        manager,
        {
          actor: actor.name,
          action: 'model_created',
          model: name,
          reason: request.reason,
          details: { task: request.task, policy: request.policy ?? null },
        },
        now,
      );
      return ok((await this.catalog.findModel(manager, name)) as ModelRecord);
    });
  }

  async setPolicy(
    name: string,
    request: SetPolicyRequest,
    actor: Principal,
    now = new Date(),
  ): Promise<Result<ModelRecord, NotFound>> {
    const policy = policyOf(request.policy);
    return this.change(name, { policy }, 'policy_set', request.reason, actor, now, { policy });
  }

  async update(
    name: string,
    request: UpdateModelRequest,
    actor: Principal,
    now = new Date(),
  ): Promise<Result<ModelRecord, NotFound>> {
    const { reason, tags, ...rest } = request;
    // The schema checked every tag (patternProperties, which FromSchema does not type).
    const changes = tags === undefined ? rest : { ...rest, tags: tags as Record<string, string> };
    return this.change(name, changes, 'model_updated', reason, actor, now, { ...changes });
  }

  private async change(
    name: string,
    changes: { description?: string; owner?: string; tags?: Record<string, string>; policy?: PromotionPolicy },
    action: string,
    reason: string,
    actor: Principal,
    now: Date,
    details: Record<string, unknown>,
  ): Promise<Result<ModelRecord, NotFound>> {
    return this.dataSource.transaction(async (manager) => {
      const model = await this.catalog.findModel(manager, name, true);
      if (!model) return err(modelNotFound(name));
      await this.catalog.updateModel(manager, name, changes, now);
      await this.catalog.audit(manager, { actor: actor.name, action, model: name, reason, details }, now);
      return ok((await this.catalog.findModel(manager, name)) as ModelRecord);
    });
  }
}

/** A policy as given, with the defaults filled in. */
function policyOf(given: SetPolicyRequest['policy']): PromotionPolicy {
  return {
    alias: given.alias ?? 'production',
    metric: given.metric,
    higherIsBetter: given.higherIsBetter,
    floor: given.floor ?? null,
    minAbsoluteImprovement: given.minAbsoluteImprovement ?? 0,
    minRelativeImprovement: given.minRelativeImprovement ?? 0,
    maxSliceGap: given.maxSliceGap ?? null,
    mode: given.mode ?? 'automatic',
    autoRollback: given.autoRollback ?? true,
  };
}
