import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../domain/token';

/** One audited request: who, what route with which path parameters, and how it ended; never a body. */
export interface RequestAuditEntry {
  readonly actor: Principal | undefined;
  readonly method: string;
  readonly route: string;
  readonly params: Readonly<Record<string, string>>;
  readonly status: number;
  readonly outcome: 'allowed' | 'refused';
  readonly reason?: string | undefined;
}

/**
 * A domain-level action worth its own line (e.g. "dataset protection weakened"): name it, say what it touched
 * in `details` (names and versions, never record values), and record the caller's acknowledgement if one was asked.
 */
export interface ActionAuditEntry {
  readonly actor: Principal;
  readonly action: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly acknowledgement?: string;
}

export interface AuditRow {
  id: string;
  at: Date;
  kind: 'request' | 'action';
  actorTokenId: string | null;
  actorName: string | null;
  actorRoles: string[];
  method: string | null;
  route: string | null;
  params: Record<string, string>;
  status: number | null;
  outcome: string;
  reason: string | null;
  action: string | null;
  details: Record<string, unknown> | null;
}

const REASON_MAX = 500;

/** Writes an audited action in the caller's transaction when given its manager, so the action and its record commit together. */
export async function recordAuditAction(
  manager: EntityManager,
  schema: string,
  entry: ActionAuditEntry,
): Promise<void> {
  const details =
    entry.acknowledgement === undefined
      ? (entry.details ?? {})
      : { ...entry.details, acknowledgement: entry.acknowledgement };
  await manager.query(
    `INSERT INTO "${schema}".audit_log (kind, actor_token_id, actor_name, actor_roles, outcome, action, details)
     VALUES ('action', $1, $2, $3, 'allowed', $4, $5::jsonb)`,
    [entry.actor.tokenId, entry.actor.name, [...entry.actor.roles], entry.action, JSON.stringify(details)],
  );
}

/** The service's audit log (table audit_log in its schema). */
export class AuditLog {
  constructor(
    private readonly dataSource: DataSource,
    readonly schema: string,
  ) {}

  async recordRequest(entry: RequestAuditEntry): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO "${this.schema}".audit_log (kind, actor_token_id, actor_name, actor_roles, method, route, params, status, outcome, reason)
       VALUES ('request', $1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)`,
      [
        entry.actor?.tokenId ?? null,
        entry.actor?.name ?? null,
        [...(entry.actor?.roles ?? [])],
        entry.method,
        entry.route,
        JSON.stringify(entry.params),
        entry.status,
        entry.outcome,
        entry.reason?.slice(0, REASON_MAX) ?? null,
      ],
    );
  }

  /** See recordAuditAction; without a manager it commits on its own. */
  async recordAction(entry: ActionAuditEntry, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await recordAuditAction(manager, this.schema, entry);
  }

  /** Newest first. */
  async list(options: { limit: number; since?: Date | undefined }): Promise<AuditRow[]> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT id, at, kind, actor_token_id, actor_name, actor_roles, method, route, params, status, outcome, reason, action, details
       FROM "${this.schema}".audit_log WHERE ($1::timestamptz IS NULL OR at >= $1) ORDER BY at DESC, id DESC LIMIT $2`,
      [options.since ?? null, options.limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      at: r.at as Date,
      kind: r.kind as AuditRow['kind'],
      actorTokenId: r.actor_token_id as string | null,
      actorName: r.actor_name as string | null,
      actorRoles: r.actor_roles as string[],
      method: r.method as string | null,
      route: r.route as string | null,
      params: r.params as Record<string, string>,
      status: r.status as number | null,
      outcome: r.outcome as string,
      reason: r.reason as string | null,
      action: r.action as string | null,
      details: r.details as Record<string, unknown> | null,
    }));
  }
}
