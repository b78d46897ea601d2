import type { Principal } from '../domain/token';
import type { PRINCIPAL } from '../decorators';

/** The parts of an Express or Fastify request the guard reads (no @types/express or fastify here). */
export interface AuthRequest {
  method: string;
  /** Express: the path; Fastify has `url` (with the query) instead. */
  path?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  /** The declared route: Express's `route.path`, Fastify's `routeOptions.url`. */
  route?: { path?: string };
  routeOptions?: { url?: string };
  [PRINCIPAL]?: Principal;
  /** Why an audited request failed in its handler (noted by the exception filter: noteAuditFailure). */
  auditFailure?: string;
}

/** An Express response, or a Fastify reply (`header()`, its Node response in `raw`). */
export interface AuthResponse {
  statusCode: number;
  setHeader?(name: string, value: string): void;
  header?(name: string, value: string): void;
  once?(event: 'finish', listener: () => void): void;
  raw?: { statusCode: number; once(event: 'finish', listener: () => void): void };
}

/** The declared route of a request (Express or Fastify), else its path. */
export function routeOf(request: AuthRequest): string {
  return request.route?.path ?? request.routeOptions?.url ?? request.path ?? (request.url ?? '').split('?')[0] ?? '';
}
