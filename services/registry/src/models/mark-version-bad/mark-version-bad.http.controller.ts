import { Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { Audited, CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import type { BadMark } from '../../infrastructure/catalog-store';
import { type ReasonRequest, type VersionParams, reasonRequest, versionParams } from '../params';
import { MarkVersionBadService } from './mark-version-bad.service';

/** `POST /models/:name/versions/:version/bad` (role promoter). */
@Controller('models/:name/versions/:version/bad')
export class MarkVersionBadHttpController {
  constructor(private readonly service: MarkVersionBadService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @RequireRole('promoter')
  @Audited()
  @Operation({
    summary: 'Mark a version bad: never promoted again (gate, approval, rollback) without an explicit override',
    responses: {
      200: { description: 'the mark', schema: { type: 'object' } },
      404: errorResponse('no such version', 'version_not_found'),
    },
  })
  async mark(
    @ValidParams(versionParams) params: VersionParams,
    @ValidBody(reasonRequest) body: ReasonRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<BadMark> {
    const result = await this.service.mark(
      { model: params.name, version: Number(params.version), reason: body.reason },
      actor,
    );
    return respond(result, { model_not_found: 404, version_not_found: 404 });
  }
}
