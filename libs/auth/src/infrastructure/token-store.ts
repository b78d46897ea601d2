import type { DataSource, EntityManager } from 'typeorm';
import type { AuthTokenChangedV1 } from '@mlops/contracts';
import { type Role, isRole } from '../domain/roles';
import { BOOTSTRAP_TOKEN_ID, BOOTSTRAP_TOKEN_NAME, type TokenRecord } from '../domain/token';

interface TokenRow {
  id: string;
  name: string;
  roles: string[];
  secret_hash: string;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  revision: number;
}

const COLUMNS = 'id, name, roles, secret_hash, created_by, created_at, expires_at, revoked_at, revision';

/** The service's copy of the token table, in its own schema. */
export class TokenStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
  ) {}

  async find(
    id: string,
    manager: EntityManager = this.dataSource.manager,
    forUpdate = false,
  ): Promise<TokenRecord | undefined> {
    const rows: TokenRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM "${this.schema}".auth_tokens WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ? recordOf(rows[0]) : undefined;
  }

  async list(): Promise<TokenRecord[]> {
    const rows: TokenRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM "${this.schema}".auth_tokens ORDER BY created_at, id`,
    );
    return rows.map(recordOf);
  }

  /** Writes a token unless a row with the same or a higher revision is there: replays cannot undo a revocation. */
  async upsert(manager: EntityManager, token: TokenRecord): Promise<void> {
    await manager.query(
      `INSERT INTO "${this.schema}".auth_tokens (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, roles = excluded.roles, secret_hash = excluded.secret_hash,
         created_by = excluded.created_by, created_at = excluded.created_at, expires_at = excluded.expires_at,
         revoked_at = excluded.revoked_at, revision = excluded.revision
       WHERE auth_tokens.revision < excluded.revision`,
      [
        token.id,
        token.name,
        [...token.roles],
        token.secretHash,
        token.createdBy,
        token.createdAt,
        token.expiresAt,
        token.revokedAt,
        token.revision,
      ],
    );
  }

  /** The bootstrap admin row: created on first start, its hash kept current so the listing tells the truth. */
  async recordBootstrap(secretHash: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO "${this.schema}".auth_tokens (${COLUMNS}) VALUES ($1, $2, $3, $4, 'config', now(), NULL, NULL, 1)
       ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash`,
      [BOOTSTRAP_TOKEN_ID, BOOTSTRAP_TOKEN_NAME, ['admin'], secretHash],
    );
  }
}

/** A token as the event carries it. */
export function recordOfEvent(data: AuthTokenChangedV1): TokenRecord {
  return {
    id: data.id,
    name: data.name,
    roles: data.roles,
    secretHash: data.secretHash,
    createdBy: data.createdBy,
    createdAt: new Date(data.createdAt),
    expiresAt: data.expiresAt === null ? null : new Date(data.expiresAt),
    revokedAt: data.revokedAt === null ? null : new Date(data.revokedAt),
    revision: data.revision,
  };
}

export function eventDataOf(token: TokenRecord): AuthTokenChangedV1 {
  return {
    id: token.id,
    name: token.name,
    roles: [...token.roles],
    secretHash: token.secretHash,
    createdBy: token.createdBy,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
    revision: token.revision,
  };
}

function recordOf(row: TokenRow): TokenRecord {
  // A role this version does not know (a newer service granted it) is dropped, never widened into something else.
  const roles: Role[] = row.roles.filter(isRole);
  return {
    id: row.id,
    name: row.name,
    roles,
    secretHash: row.secret_hash,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revision: row.revision,
  };
}
