import { Injectable } from '@nestjs/common';
import { type Result, ok } from '@mlops/core';
import type { MonitorPolicy, PolicyOverrides } from '../../domain';
import { EvaluateModelsService } from '../../evaluation/evaluate-models/evaluate-models.service';
import { MonitorStore } from '../../infrastructure/monitor-store';

/** A model's monitoring policy: the overrides a person set, laid over the defaults. */
@Injectable()
export class ModelPolicyService {
  constructor(
    private readonly store: MonitorStore,
    private readonly evaluation: EvaluateModelsService,
  ) {}

  async set(model: string, overrides: PolicyOverrides): Promise<Result<MonitorPolicy, never>> {
    await this.store.savePolicy(this.store.dataSource.manager, model, overrides);
    return ok(await this.evaluation.policyOf(this.store.dataSource.manager, model));
  }

  async get(model: string): Promise<Result<MonitorPolicy, never>> {
    return ok(await this.evaluation.policyOf(this.store.dataSource.manager, model));
  }
}
