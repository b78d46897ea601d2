import { Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { Audited, CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, errorResponse, respond } from '@mlops/http';
import type { AliasHistoryEntry } from '../../infrastructure/catalog-store';
import { type AliasParams, type ReasonRequest, aliasParams, reasonRequest } from '../params';
import { RollbackAliasService } from './rollback-alias.service';

/** `POST /models/:name/aliases/:alias/rollback` (role promoter). */
@Controller('models/:name/aliases/:alias/rollback')
export class RollbackAliasHttpController {
  constructor(private readonly service: RollbackAliasService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @RequireRole('promoter')
  @Audited()
  @Operation({
    summary: 'Move the alias back to the version it pointed at before (its history; versions marked bad skipped)',
    responses: {
      200: { description: 'the move', schema: { type: 'object' } },
      404: errorResponse('no such model or alias', 'alias_not_found'),
      409: errorResponse('no earlier version to go back to', 'no_rollback_target'),
    },
  })
  async rollback(
    @ValidParams(aliasParams) params: AliasParams,
    @ValidBody(reasonRequest) body: ReasonRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<AliasHistoryEntry> {
    const result = await this.service.rollback(
      { model: params.name, alias: params.alias, reason: body.reason },
      actor.name,
    );
    return respond(result, {
      model_not_found: 404,
      version_not_found: 404,
      alias_not_found: 404,
      no_rollback_target: 409,
    });
  }
}
