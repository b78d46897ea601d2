import type { DataSource } from 'typeorm';
import { EventTypes } from '@mlops/contracts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { enqueueInOutbox, newEvent } from '@mlops/messaging';
import type { Role } from '../domain/roles';
import { BOOTSTRAP_TOKEN_ID, type Principal, type TokenRecord, generateToken } from '../domain/token';
import { type TokenStore, eventDataOf } from '../infrastructure/token-store';
import type { TokenVerifier } from './token-verifier';

export interface IssueTokenRequest {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly expiresAt?: string;
}

export interface IssuedToken {
  readonly record: TokenRecord;
  /** The bearer token; it exists nowhere else once this answer is sent. */
  readonly token: string;
}

/** Issues and revokes tokens: this service's row and the event telling every other service, in one transaction. */
export class TokenService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: TokenStore,
    private readonly verifier: TokenVerifier,
    private readonly schema: string,
    private readonly source: string,
  ) {}

  async issue(
    actor: Principal,
    request: IssueTokenRequest,
    now = new Date(),
  ): Promise<Result<IssuedToken, DomainError<'expiry-not-in-future'>>> {
    const expiresAt = request.expiresAt === undefined ? null : new Date(request.expiresAt);
    if (expiresAt !== null && expiresAt.getTime() <= now.getTime()) {
      return err(domainError('expiry-not-in-future', `expiresAt ${request.expiresAt} is not in the future`));
    }
    const fresh = generateToken();
    const record: TokenRecord = {
      id: fresh.id,
      name: request.name,
      roles: [...new Set(request.roles)],
      secretHash: fresh.secretHash,
      createdBy: actor.tokenId,
      createdAt: now,
      expiresAt,
      revokedAt: null,
      revision: 1,
    };
    await this.dataSource.transaction(async (manager) => {
      await this.store.upsert(manager, record);
      await enqueueInOutbox(
        manager,
        this.schema,
        newEvent(EventTypes.AuthTokenChangedV1, eventDataOf(record), { source: this.source }),
      );
    });
    return ok({ record, token: fresh.token });
  }

  /** Revoking twice answers the first revocation; the config's admin token can only be changed in the config. */
  async revoke(
    id: string,
    now = new Date(),
  ): Promise<Result<TokenRecord, DomainError<'unknown-token' | 'bootstrap-token'>>> {
    if (id === BOOTSTRAP_TOKEN_ID) {
      return err(
        domainError(
          'bootstrap-token',
          'the bootstrap admin token comes from AUTH_ADMIN_TOKEN(_FILE): change it there and restart',
        ),
      );
    }
    const result = await this.dataSource.transaction(
      async (manager): Promise<Result<TokenRecord, DomainError<'unknown-token'>>> => {
        const current = await this.store.find(id, manager, true);
        if (!current) return err(domainError('unknown-token', `no token ${id}`));
        if (current.revokedAt !== null) return ok(current);
        const revoked: TokenRecord = { ...current, revokedAt: now, revision: current.revision + 1 };
        await this.store.upsert(manager, revoked);
        await enqueueInOutbox(
          manager,
          this.schema,
          newEvent(EventTypes.AuthTokenChangedV1, eventDataOf(revoked), { source: this.source }),
        );
        return ok(revoked);
      },
    );
    if (result.ok) this.verifier.forget(id);
    return result;
  }

  list(): Promise<TokenRecord[]> {
    return this.store.list();
  }
}
