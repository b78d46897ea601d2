import type { TokenRecord } from '../domain/token';

/** A token as the API shows it: never the secret, never its hash. */
export interface TokenView {
  id: string;
  name: string;
  roles: string[];
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

export function tokenView(token: TokenRecord, now = new Date()): TokenView {
  const status =
    token.revokedAt !== null ? 'revoked' : token.expiresAt !== null && token.expiresAt <= now ? 'expired' : 'active';
  return {
    id: token.id,
    name: token.name,
    roles: [...token.roles],
    createdBy: token.createdBy,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
    status,
  };
}
