import { Controller, HttpCode, Patch, Put } from '@nestjs/common';
import { Audited, CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import type { ModelRecord } from '../../infrastructure/catalog-store';
import { type ModelParams, modelParams } from '../params';
import {
  type CreateModelRequest,
  type SetPolicyRequest,
  createModelRequest,
  type UpdateModelRequest,
  setPolicyRequest,
  updateModelRequest,
} from './set-policy.request';
import { ModelSettingsService } from './set-policy.service';

const NOT_FOUND = { model_not_found: 404, version_not_found: 404 } as const;

/** A model's policy and description (role data-steward; admin passes every role). */
@Controller('models/:name')
export class ModelSettingsHttpController {
  constructor(private readonly service: ModelSettingsService) {}

  @Put()
  @HttpCode(201)
  @RequireRole('data-steward')
  @Audited()
  @Operation({
    summary: 'Register a model before its first version (task, description, owner, tags, promotion policy)',
    responses: {
      201: { description: 'the model', schema: { type: 'object' } },
      409: errorResponse('the model is registered already', 'model_exists'),
    },
  })
  async create(
    @ValidParams(modelParams) params: ModelParams,
    @ValidBody(createModelRequest) body: CreateModelRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<ModelRecord> {
    return respond(await this.service.create(params.name, body, actor), { model_exists: 409 });
  }

  @Put('policy')
  @RequireRole('data-steward')
  @Audited()
  @Operation({
    summary:
      "Set a model's promotion policy (metric, floor, improvement, slice gap, automatic or approval, auto-rollback)",
    responses: {
      200: { description: 'the model', schema: { type: 'object' } },
      404: errorResponse('no such model', 'model_not_found'),
    },
  })
  async setPolicy(
    @ValidParams(modelParams) params: ModelParams,
    @ValidBody(setPolicyRequest) body: SetPolicyRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<ModelRecord> {
    return respond(await this.service.setPolicy(params.name, body, actor), NOT_FOUND);
  }

  @Patch()
  @RequireRole('data-steward')
  @Audited()
  @Operation({
    summary: "Change a model's description, owner or tags",
    responses: {
      200: { description: 'the model', schema: { type: 'object' } },
      404: errorResponse('no such model', 'model_not_found'),
    },
  })
  async update(
    @ValidParams(modelParams) params: ModelParams,
    @ValidBody(updateModelRequest) body: UpdateModelRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<ModelRecord> {
    return respond(await this.service.update(params.name, body, actor), NOT_FOUND);
  }
}
