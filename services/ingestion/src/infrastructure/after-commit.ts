import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';

/**
 * Runs work once the transaction of a manager commits, and never when it rolls back: in-memory effects of a
 * transaction (counters) then happen once per committed effect, however often a rolled-back group is tried again.
 * Outside a transaction the work runs at once.
 */
export class AfterCommit {
  private readonly pending = new WeakMap<QueryRunner, Array<() => void>>();
  private readonly subscriber: EntitySubscriberInterface = {
    afterTransactionStart: ({ queryRunner }) => {
      if (!isNested(queryRunner)) this.pending.delete(queryRunner);
    },
    afterTransactionCommit: ({ queryRunner }) => {
      // A released savepoint is no commit yet: the work waits for the outermost transaction.
      if (queryRunner.isTransactionActive) return;
      const work = this.pending.get(queryRunner) ?? [];
      this.pending.delete(queryRunner);
      for (const run of work) run();
    },
    // A rollback (of a savepoint too: no caller nests them) drops the work of the whole transaction.
    afterTransactionRollback: ({ queryRunner }) => void this.pending.delete(queryRunner),
  };

  constructor(private readonly dataSource: DataSource) {
    dataSource.subscribers.push(this.subscriber);
  }

  run(manager: EntityManager | undefined, work: () => void): void {
    const queryRunner = manager?.queryRunner;
    if (!queryRunner?.isTransactionActive) return work();
    const list = this.pending.get(queryRunner) ?? [];
    list.push(work);
    this.pending.set(queryRunner, list);
  }

  close(): void {
    const at = this.dataSource.subscribers.indexOf(this.subscriber);
    if (at >= 0) this.dataSource.subscribers.splice(at, 1);
  }
}

const isNested = (queryRunner: QueryRunner): boolean =>
  ((queryRunner as unknown as { transactionDepth?: number }).transactionDepth ?? 1) > 1;
