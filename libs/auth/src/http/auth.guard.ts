import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Requirement, authorize } from '../domain/roles';
import { type Principal, bearerOf } from '../domain/token';
import { AuditLog } from '../audit/audit-log';
import { AUTH_AUDITED, AUTH_REQUIREMENT, PRINCIPAL } from '../decorators';
import { TokenVerifier } from '../tokens/token-verifier';
import type { AuthSettings } from '../config';
import { type AuthRequest, type AuthResponse, routeOf } from './request-types';

export const AUTH_SETTINGS = Symbol('AUTH_SETTINGS');

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const DISABLED_PRINCIPAL: Principal = { tokenId: 'auth-disabled', name: 'auth-disabled', roles: ['admin'] };
const AUTHENTICATED: Requirement = { kind: 'authenticated' };
const PUBLIC: Requirement = { kind: 'public' };

/**
 * The global guard: deny by default. A route is open only when it says `@Public()` or is health, docs
 * or (by config) metrics; otherwise it needs a valid token, and the roles its `@RequireRole` names.
 * Mutations and `@Audited()` routes are written to the audit log whether allowed or refused.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('auth');

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly audit: AuditLog,
    @Inject(AUTH_SETTINGS) private readonly settings: AuthSettings,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Event handlers are not HTTP routes: Kafka has its own credentials.
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const response = context.switchToHttp().getResponse<AuthResponse>();
    // The declared route, not the raw path: Express matches case-insensitively and never normalises '..'.
    const requirement = this.requirementOf(context, routeOf(request));
    const mutation = MUTATIONS.has(request.method.toUpperCase());
    const declared = this.reflector.getAllAndOverride<boolean | undefined>(AUTH_AUDITED, [
      context.getHandler(),
      context.getClass(),
    ]);
    // @NotAudited() drops only the rows of allowed requests: refusals of a mutating method are always written.
    const audited = declared ?? mutation;
    const auditedRefusal = audited || mutation;

    const refuse = (
      status: HttpStatus.UNAUTHORIZED | HttpStatus.FORBIDDEN,
      message: string,
      actor?: Principal,
    ): never => {
      if (auditedRefusal) this.auditWhenDone(request, response, actor, message);
      if (status === HttpStatus.UNAUTHORIZED) setHeader(response, 'WWW-Authenticate', 'Bearer realm="mlops"');
      throw new HttpException(
        { error: status === HttpStatus.UNAUTHORIZED ? 'unauthenticated' : 'forbidden', message },
        status,
      );
    };

    let principal: Principal | undefined;
    if (this.settings.disabled) principal = DISABLED_PRINCIPAL;
    else if (requirement.kind !== 'public') {
      const bearer = bearerOf(headerOf(request, 'authorization'));
      if (!bearer.ok) return refuse(HttpStatus.UNAUTHORIZED, bearer.error.message);
      const verified = await this.verifier.verify(bearer.value);
      if (!verified.ok) return refuse(HttpStatus.UNAUTHORIZED, verified.error.message);
      principal = verified.value;
      const allowed = authorize(principal.roles, requirement);
      if (!allowed.ok) return refuse(HttpStatus.FORBIDDEN, allowed.error.message, principal);
    }
    if (principal) request[PRINCIPAL] = principal;
    if (audited) this.auditWhenDone(request, response, principal, undefined);
    return true;
  }

  private requirementOf(context: ExecutionContext, path: string): Requirement {
    // Routes of other libs (health, metrics, docs) cannot carry our decorators: they are known by path.
    if (path === '/health' || path.startsWith('/health/')) return PUBLIC;
    if (path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/')) return PUBLIC;
    if (path === '/metrics') return this.settings.metricsPublic ? PUBLIC : AUTHENTICATED;
    return (
      this.reflector.getAllAndOverride<Requirement>(AUTH_REQUIREMENT, [context.getHandler(), context.getClass()]) ??
      AUTHENTICATED
    );
  }

  /** The status is known only once the answer is sent; the row is written then, off the request's path. */
  private auditWhenDone(
    request: AuthRequest,
    response: AuthResponse,
    actor: Principal | undefined,
    refusal: string | undefined,
  ): void {
    const method = request.method.toUpperCase();
    const route = routeOf(request);
    const params = { ...(request.params ?? {}) };
    const node = response.raw ?? response;
    node.once?.('finish', () => {
      const failure =
        refusal ?? (node.statusCode >= 400 ? (request.auditFailure ?? `status ${node.statusCode}`) : undefined);
      this.audit
        .recordRequest({
          actor,
          method,
          route,
          params,
          status: node.statusCode,
          outcome: refusal === undefined ? 'allowed' : 'refused',
          reason: failure,
        })
        .catch((error: unknown) =>
          this.logger.error(`audit log write failed for ${method} ${route}: ${(error as Error).message}`),
        );
    });
  }
}

function setHeader(response: AuthResponse, name: string, value: string): void {
  if (response.setHeader) response.setHeader(name, value);
  else response.header?.(name, value);
}

function headerOf(request: AuthRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
