import { Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { Audited, CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import type { AliasHistoryEntry } from '../../infrastructure/catalog-store';
import { type ReasonRequest, type VersionParams, reasonRequest, versionParams } from '../params';
import { ApprovePromotionService } from './approve-promotion.service';

/** `POST /models/:name/versions/:version/approve` (role promoter). */
@Controller('models/:name/versions/:version/approve')
export class ApprovePromotionHttpController {
  constructor(private readonly service: ApprovePromotionService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @RequireRole('promoter')
  @Audited()
  @Operation({
    summary: 'Approve the pending promotion of a version that passed the gate: the alias moves',
    responses: {
      200: { description: 'the move', schema: { type: 'object' } },
      404: errorResponse('no such version', 'version_not_found'),
      409: errorResponse('nothing waits for approval, or the version is marked bad', 'no_pending_promotion'),
    },
  })
  async approve(
    @ValidParams(versionParams) params: VersionParams,
    @ValidBody(reasonRequest) body: ReasonRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<AliasHistoryEntry> {
    const result = await this.service.approve(
      { model: params.name, version: Number(params.version), reason: body.reason },
      actor,
    );
    return respond(result, {
      model_not_found: 404,
      version_not_found: 404,
      no_pending_promotion: 409,
      version_marked_bad: 409,
      gate_no_longer_passes: 409,
    });
  }
}
