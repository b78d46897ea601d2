import { timingSafeEqual } from 'node:crypto';
import { type DomainError, type Result, ok } from '@mlops/core';
import {
  BOOTSTRAP_TOKEN_ID,
  BOOTSTRAP_TOKEN_NAME,
  type Principal,
  type TokenProblem,
  type TokenRecord,
  hashMatches,
  parseToken,
  verifyToken,
} from '../domain/token';
import type { TokenStore } from '../infrastructure/token-store';

/** Longest a verified token is trusted without reading its row again: a revocation takes effect within it. */
export const MAX_TOKEN_CACHE_MS = 2_000;
const MAX_CACHED = 10_000;

const BOOTSTRAP_PRINCIPAL: Principal = { tokenId: BOOTSTRAP_TOKEN_ID, name: BOOTSTRAP_TOKEN_NAME, roles: ['admin'] };

/** Finds and checks the token of a request, with a short cache of rows so each request does not read Postgres. */
export class TokenVerifier {
  private readonly cache = new Map<string, { record: TokenRecord; at: number }>();
  private readonly cacheMs: number;
  /** The admin token once a request presented it: later ones are compared (in constant time), not hashed. */
  private adminToken: Buffer | undefined;

  constructor(
    private readonly store: TokenStore,
    private readonly adminTokenHash: string | undefined,
    cacheMs = MAX_TOKEN_CACHE_MS,
  ) {
    this.cacheMs = Math.min(cacheMs, MAX_TOKEN_CACHE_MS);
  }

  async verify(token: string, now = new Date()): Promise<Result<Principal, DomainError<TokenProblem>>> {
    if (this.adminTokenHash !== undefined) {
      const presented = Buffer.from(token, 'utf8');
      const known = this.adminToken;
      if (known !== undefined && known.length === presented.length && timingSafeEqual(known, presented))
        return ok(BOOTSTRAP_PRINCIPAL);
      if (hashMatches(token, this.adminTokenHash)) {
        this.adminToken = presented;
        return ok(BOOTSTRAP_PRINCIPAL);
      }
    }
    const parsed = parseToken(token);
    if (!parsed.ok) return parsed;
    return verifyToken(await this.lookup(parsed.value.id), parsed.value, now);
  }

  /** Drops a cached row at once (this replica revoked or received a change of it). */
  forget(id: string): void {
    this.cache.delete(id);
  }

  private async lookup(id: string): Promise<TokenRecord | undefined> {
    const cached = this.cache.get(id);
    if (cached && Date.now() - cached.at < this.cacheMs) return cached.record;
    const record = await this.store.find(id);
    if (record === undefined) {
      this.cache.delete(id);
      return undefined;
    }
    // A crude bound: unknown ids are never cached, so only real tokens fill it.
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(id, { record, at: Date.now() });
    return record;
  }
}
