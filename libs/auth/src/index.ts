// @mlops/auth: bearer tokens with roles for every service's HTTP API, kept in step between services by events.
export { ROLES, type Requirement, type Role, authorize, isRole } from './domain/roles';
export {
  BOOTSTRAP_TOKEN_ID,
  BOOTSTRAP_TOKEN_NAME,
  MIN_ADMIN_TOKEN_LENGTH,
  type NewToken,
  type ParsedToken,
  type Principal,
  TOKEN_PREFIX,
  type TokenProblem,
  type TokenRecord,
  bearerOf,
  generateToken,
  hashMatches,
  parseToken,
  sha256Hex,
  verifyToken,
} from './domain/token';
export { type AuthConfig, type AuthSettings, authKeys, authSettingsOf, authSettingsOrExit } from './config';
export {
  AUTH_AUDITED,
  AUTH_REQUIREMENT,
  Audited,
  NotAudited,
  CurrentPrincipal,
  PRINCIPAL,
  Public,
  RequireRole,
} from './decorators';
export {
  type ActionAuditEntry,
  AuditLog,
  type AuditRow,
  type RequestAuditEntry,
  recordAuditAction,
} from './audit/audit-log';
export { AuthTables1764590000000, authMigrations } from './infrastructure/migrations';
export { TokenStore, eventDataOf, recordOfEvent } from './infrastructure/token-store';
export { MAX_TOKEN_CACHE_MS, TokenVerifier } from './tokens/token-verifier';
export { type IssueTokenRequest, type IssuedToken, TokenService } from './tokens/token.service';
export { type TokenView, tokenView } from './tokens/token.view';
export { TokenChangedMessageController } from './tokens/token-changed.message.controller';
export { AjvBodyPipe } from './http/ajv-body.pipe';
export { AUTH_SETTINGS, AuthGuard } from './http/auth.guard';
export { noteAuditFailure } from './http/audit-failure';
export { AuthHttpController } from './http/auth.http.controller';
export { AuthModule, type AuthModuleOptions } from './auth.module';
export { createTokenWithRoles } from './testing';
