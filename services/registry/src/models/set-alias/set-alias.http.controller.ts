import { Controller, Put } from '@nestjs/common';
import { Audited, CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import type { AliasHistoryEntry } from '../../infrastructure/catalog-store';
import { type AliasParams, aliasParams } from '../params';
import { type SetAliasRequest, setAliasRequest } from './set-alias.request';
import { SetAliasService } from './set-alias.service';

/** `PUT /models/:name/aliases/:alias`: a person promotes a version (role promoter); emits model.promoted (manual). */
@Controller('models/:name/aliases/:alias')
export class SetAliasHttpController {
  constructor(private readonly service: SetAliasService) {}

  @Put()
  @RequireRole('promoter')
  @Audited()
  @Operation({
    summary: 'Set or move an alias to a version, with a reason (manual promotion)',
    responses: {
      200: { description: 'the move, as recorded in the alias history', schema: { type: 'object' } },
      404: errorResponse('no such model or version', 'version_not_found'),
      409: errorResponse('the version is marked bad and override is not set', 'version_marked_bad'),
    },
  })
  async set(
    @ValidParams(aliasParams) params: AliasParams,
    @ValidBody(setAliasRequest) body: SetAliasRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<AliasHistoryEntry> {
    const result = await this.service.set(
      {
        model: params.name,
        alias: params.alias,
        version: body.version,
        reason: body.reason,
        override: body.override ?? false,
      },
      actor,
    );
    return respond(result, { model_not_found: 404, version_not_found: 404, version_marked_bad: 409 });
  }
}
