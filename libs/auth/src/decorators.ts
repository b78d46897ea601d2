import { type ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { Requirement, Role } from './domain/roles';
import type { Principal } from './domain/token';

export const AUTH_REQUIREMENT = 'mlops:auth:requirement';
export const AUTH_AUDITED = 'mlops:auth:audited';
/** Where the guard leaves the verified caller on the request. */
export const PRINCIPAL = Symbol('mlops:auth:principal');

/** The route needs one of these roles (admin always passes). Without any decorator a route needs any valid token. */
export const RequireRole = (...roles: [Role, ...Role[]]) =>
  SetMetadata(AUTH_REQUIREMENT, { kind: 'roles', roles } satisfies Requirement);

/** The route is open to anyone, no token read. */
export const Public = () => SetMetadata(AUTH_REQUIREMENT, { kind: 'public' } satisfies Requirement);

/** Audit this route even though it is not a mutation (e.g. a read of sensitive data). */
export const Audited = () => SetMetadata(AUTH_AUDITED, true);

/**
 * A POST that changes nothing (a prediction, a query): allowed requests are not written to the audit log, refused
 * ones still are. For hot read paths whose own log records each request (the deployer's prediction log).
 */
export const NotAudited = () => SetMetadata(AUTH_AUDITED, false);

/** The verified caller of the request (undefined only on public routes). */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal | undefined =>
    context.switchToHttp().getRequest<{ [PRINCIPAL]?: Principal }>()[PRINCIPAL],
);
