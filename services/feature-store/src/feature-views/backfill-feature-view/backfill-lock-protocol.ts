import type { DataSource, EntityManager } from 'typeorm';
import { AdvisoryLockScope } from '@mlops/storage';
import type { CatalogStore } from '../../infrastructure/catalog-store';
import { SERVICE } from '../../tokens';

/** One replica runs a given backfill; the key is `name@version`. */
const BACKFILLS = new AdvisoryLockScope(SERVICE, 'feature-view-backfill');

export interface PassLimits {
  /** Catch-up passes run without blocking materialization while each still finds this many new records. */
  readonly catchUpRecords: number;
  readonly maxCatchUpPasses: number;
}

const DEFAULT_LIMITS: PassLimits = { catchUpRecords: 1_000, maxCatchUpPasses: 5 };

/** Replays the records that arrived after `after` (null: from the first) and up to `upTo`; answers how many it found. */
export type ReplayPass = (after: Date | null, upTo: Date) => Promise<number>;

/** The last pass, inside the transaction that holds the dataset lock: replays up to `upTo` and makes the version ready. */
export type FinalPass = (manager: EntityManager, after: Date | null, upTo: Date) => Promise<void>;

/**
 * How a backfill cuts the dataset's history so that nothing is missed or counted twice. Materialization holds
 * the dataset lock shared while it writes a record (CatalogStore.lockDatasetShared); taking it exclusively waits
 * for every record that arrived before, so that all of them are readable. Catch-up passes take it and let go
 * at once, so materialization goes on meanwhile; the last pass holds it until the version is ready, so every
 * later record is materialized live into the ready version.
 */
export class BackfillLockProtocol {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly limits: PassLimits = DEFAULT_LIMITS,
  ) {}

  /** Runs `work` unless another replica runs this backfill (then it is left to that one); false when skipped. */
  async alone(name: string, version: number, work: () => Promise<void>): Promise<boolean> {
    const lock = await BACKFILLS.tryLockForSession(this.dataSource, `${name}@${version}`);
    if (!lock) return false;
    try {
      await work();
      return true;
    } finally {
      await lock.release();
    }
  }

  /** Catch-up passes, then the final pass under the dataset lock. */
  async inPasses(dataset: string, pass: ReplayPass, final: FinalPass): Promise<void> {
    let after: Date | null = null;
    for (let n = 0; n < this.limits.maxCatchUpPasses; n++) {
      const upTo = await this.readableUpTo(dataset);
      const found = await pass(after, upTo);
      after = upTo;
      if (found < this.limits.catchUpRecords) break;
    }
    const from = after;
    await this.dataSource.transaction(async (manager) => {
      await this.catalog.lockDatasetExclusive(manager, dataset);
      await final(manager, from, new Date());
    });
  }

  /**
   * A time up to which every record of the dataset is readable: a millisecond before the lock was granted,
   * since a record of that very millisecond may still come after it.
   */
  private async readableUpTo(dataset: string): Promise<Date> {
    const lockedAt = await this.dataSource.transaction(async (manager) => {
      await this.catalog.lockDatasetExclusive(manager, dataset);
      return Date.now();
    });
    return new Date(lockedAt - 1);
  }
}
