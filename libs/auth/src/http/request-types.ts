import type { Principal } from '../domain/token';
import type { PRINCIPAL } from '../decorators';

/** The parts of an Express request the guard reads (the platform is Express; no @types/express here). */
export interface AuthRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  route?: { path?: string };
  [PRINCIPAL]?: Principal;
  /** Why an audited request failed in its handler (set by AuditInterceptor). */
  auditFailure?: string;
}

export interface AuthResponse {
  statusCode: number;
  setHeader(name: string, value: string): void;
  once(event: 'finish', listener: () => void): void;
}
