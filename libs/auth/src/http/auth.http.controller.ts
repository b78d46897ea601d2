import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Query,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { Principal } from '../domain/token';
import { AuditLog, type AuditRow } from '../audit/audit-log';
import { CurrentPrincipal, RequireRole } from '../decorators';
import { type CreateTokenRequest, createTokenRequestSchema } from '../tokens/create-token.request';
import { TokenService } from '../tokens/token.service';
import { type TokenView, tokenView } from '../tokens/token.view';
import { AjvBodyPipe } from './ajv-body.pipe';

const MAX_AUDIT_ROWS = 1_000;

/** Token administration, `whoami` and the audit log. */
@Controller('auth')
export class AuthHttpController {
  constructor(
    private readonly tokens: TokenService,
    private readonly audit: AuditLog,
  ) {}

  /** 201 with the bearer token: the only time it is shown. */
  @Post('tokens')
  @RequireRole('admin')
  async create(
    @Body(new AjvBodyPipe<CreateTokenRequest>(createTokenRequestSchema)) body: CreateTokenRequest,
    @CurrentPrincipal() actor: Principal,
  ): Promise<TokenView & { token: string }> {
    const result = await this.tokens.issue(actor, body);
    if (!result.ok) throw new UnprocessableEntityException({ error: result.error.kind, message: result.error.message });
    return { ...tokenView(result.value.record), token: result.value.token };
  }

  @Get('tokens')
  @RequireRole('admin')
  async list(): Promise<{ tokens: TokenView[] }> {
    const now = new Date();
    return { tokens: (await this.tokens.list()).map((t) => tokenView(t, now)) };
  }

  @Delete('tokens/:id')
  @RequireRole('admin')
  @HttpCode(HttpStatus.OK)
  async revoke(@Param('id') id: string): Promise<TokenView> {
    const result = await this.tokens.revoke(id);
    if (result.ok) return tokenView(result.value);
    if (result.error.kind === 'unknown-token')
      throw new NotFoundException({ error: 'not_found', message: result.error.message });
    throw new ConflictException({ error: result.error.kind, message: result.error.message });
  }

  /** Any valid token: who the caller is and what it may do. */
  @Get('whoami')
  whoami(@CurrentPrincipal() principal: Principal): { id: string; name: string; roles: string[] } {
    return { id: principal.tokenId, name: principal.name, roles: [...principal.roles] };
  }

  /** Newest first; `since` is an RFC 3339 time, `limit` at most 1000 (default 100). */
  @Get('audit')
  @RequireRole('admin')
  async auditLog(@Query('limit') limit?: string, @Query('since') since?: string): Promise<{ entries: AuditRow[] }> {
    const rows = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(rows) || rows < 1 || rows > MAX_AUDIT_ROWS) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: `limit must be an integer from 1 to ${MAX_AUDIT_ROWS}`,
      });
    }
    const from = since === undefined ? undefined : new Date(since);
    if (from !== undefined && (!/^\d{4}-\d{2}-\d{2}T/.test(since!) || Number.isNaN(from.getTime()))) {
      throw new BadRequestException({ error: 'invalid_request', message: 'since must be an RFC 3339 date-time' });
    }
    return { entries: await this.audit.list({ limit: rows, since: from }) };
  }
}
