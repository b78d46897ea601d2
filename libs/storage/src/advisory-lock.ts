import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/** Exclusive locks exclude every other holder; shared ones exclude only exclusive holders. */
export type LockMode = 'exclusive' | 'shared';

/** A session-scoped lock, held on its own connection until released. */
export interface SessionLock {
  release(): Promise<void>;
}

type Sql = { readonly exclusive: string; readonly shared: string };

// The two-int form: the scope takes the first int, the key the second, so keys of two scopes never meet
// (nor those of the one-bigint form, which Postgres keeps apart).
const WAIT_IN_TRANSACTION: Sql = {
  exclusive: 'SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))',
  shared: 'SELECT pg_advisory_xact_lock_shared(hashtext($1), hashtext($2))',
};
const TRY_IN_TRANSACTION: Sql = {
  exclusive: 'SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked',
  shared: 'SELECT pg_try_advisory_xact_lock_shared(hashtext($1), hashtext($2)) AS locked',
};
const WAIT_FOR_SESSION: Sql = {
  exclusive: 'SELECT pg_advisory_lock(hashtext($1), hashtext($2))',
  shared: 'SELECT pg_advisory_lock_shared(hashtext($1), hashtext($2))',
};
const TRY_FOR_SESSION: Sql = {
  exclusive: 'SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked',
  shared: 'SELECT pg_try_advisory_lock_shared(hashtext($1), hashtext($2)) AS locked',
};
const UNLOCK_SESSION: Sql = {
  exclusive: 'SELECT pg_advisory_unlock(hashtext($1), hashtext($2)) AS unlocked',
  shared: 'SELECT pg_advisory_unlock_shared(hashtext($1), hashtext($2)) AS unlocked',
};

/**
 * The advisory locks one service takes for one purpose (e.g. ingestion's dataset registrations): a key only
 * meets the same key of the same scope. Transaction-scoped locks end with the caller's transaction;
 * session-scoped ones hold a connection of the pool until released.
 */
export class AdvisoryLockScope {
  /** `service/purpose`: what Postgres hashes into the scope's half of the lock id. */
  readonly name: string;

  constructor(service: string, purpose: string) {
    if (!service || !purpose || service.includes('/') || purpose.includes('/')) {
      throw new Error(
        `an advisory lock scope needs a service and a purpose without "/" (got "${service}", "${purpose}")`,
      );
    }
    this.name = `${service}/${purpose}`;
  }

  /** Waits for the lock; it is released when the manager's transaction ends. */
  async lockInTransaction(manager: EntityManager, key: string, mode: LockMode = 'exclusive'): Promise<void> {
    await inTransaction(manager).query(WAIT_IN_TRANSACTION[mode], [this.name, key]);
  }

  /** Takes the lock if it is free (released when the transaction ends); false at once when it is not. */
  async tryLockInTransaction(manager: EntityManager, key: string, mode: LockMode = 'exclusive'): Promise<boolean> {
    const rows: Array<{ locked: boolean }> = await inTransaction(manager).query(TRY_IN_TRANSACTION[mode], [
      this.name,
      key,
    ]);
    return rows[0]?.locked === true;
  }

  /** Waits for the lock on a connection of its own, held until `release()`. */
  async lockForSession(dataSource: DataSource, key: string, mode: LockMode = 'exclusive'): Promise<SessionLock> {
    return (await this.forSession(dataSource, key, mode, 'wait'))!;
  }

  /** Takes the lock on a connection of its own if it is free; undefined at once when it is not. */
  async tryLockForSession(
    dataSource: DataSource,
    key: string,
    mode: LockMode = 'exclusive',
  ): Promise<SessionLock | undefined> {
    return this.forSession(dataSource, key, mode, 'try');
  }

  private async forSession(
    dataSource: DataSource,
    key: string,
    mode: LockMode,
    how: 'wait' | 'try',
  ): Promise<SessionLock | undefined> {
    const runner = dataSource.createQueryRunner();
    try {
      if (how === 'wait') {
        await runner.query(WAIT_FOR_SESSION[mode], [this.name, key]);
      } else {
        const rows: Array<{ locked: boolean }> = await runner.query(TRY_FOR_SESSION[mode], [this.name, key]);
        if (rows[0]?.locked !== true) {
          await runner.release();
          return undefined;
        }
      }
    } catch (error) {
      await discard(runner, error);
      throw error;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await runner.query(UNLOCK_SESSION[mode], [this.name, key]);
          await runner.release();
        } catch (error) {
          // The lock may still be held by that connection: it must not go back to the pool.
          await discard(runner, error);
        }
      },
    };
  }
}

function inTransaction(manager: EntityManager): QueryRunner {
  const runner = manager.queryRunner;
  // Outside a transaction the lock would end with the statement that took it, protecting nothing.
  if (!runner?.isTransactionActive)
    throw new Error('a transaction-scoped advisory lock needs a manager inside a transaction');
  return runner;
}

/** Releases a connection so that the pool closes it (and Postgres drops its session locks) instead of reusing it. */
async function discard(runner: QueryRunner, error: unknown): Promise<void> {
  const postgres = runner as QueryRunner & { releasePostgresConnection?: (error?: unknown) => Promise<void> };
  if (postgres.releasePostgresConnection)
    await postgres.releasePostgresConnection(error instanceof Error ? error : new Error(String(error)));
  else await runner.release().catch(() => undefined);
}
