import { Controller, Get, Put } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, respond } from '@mlops/http';
import type { MonitorPolicy, PolicyOverrides } from '../../domain';
import { type ModelParam, type PolicyBody, modelParam, policyBody } from './model-policy.request';
import { ModelPolicyService } from './model-policy.service';

/** PUT/GET /models/:model/policy: windows, drift thresholds, the live-metric floor, continuous-training triggers. */
@Controller('models')
export class ModelPolicyHttpController {
  constructor(private readonly policies: ModelPolicyService) {}

  @Put(':model/policy')
  @RequireRole('promoter')
  @Operation({
    summary: "Set a model's monitoring policy (overrides of the defaults)",
    responses: { 200: { description: 'the policy now in force, defaults included' } },
  })
  async set(
    @ValidParams(modelParam) params: ModelParam,
    @ValidBody(policyBody) body: PolicyBody,
  ): Promise<MonitorPolicy> {
    return respond(await this.policies.set(params.model, body as PolicyOverrides), {});
  }

  @Get(':model/policy')
  @RequireRole('reader', 'analyst')
  @Operation({
    summary: "A model's monitoring policy in force",
    responses: { 200: { description: 'the policy, defaults included' } },
  })
  async get(@ValidParams(modelParam) params: ModelParam): Promise<MonitorPolicy> {
    return respond(await this.policies.get(params.model), {});
  }
}
