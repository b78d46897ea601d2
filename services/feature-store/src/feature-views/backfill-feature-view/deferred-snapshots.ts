import type { Logger } from '@nestjs/common';
import type { BuildSnapshotService } from '../../snapshots/build-snapshot/build-snapshot.service';

/**
 * The snapshot requests that waited for a backfill (BuildSnapshotService defers them while their version is
 * backfilling): answered once the version is ready, or at the next start when this process stopped first.
 */
export class DeferredSnapshots {
  constructor(
    private readonly snapshots: BuildSnapshotService,
    private readonly logger: Pick<Logger, 'log' | 'error'>,
  ) {}

  /** After a version became ready. Never throws: the version is ready whatever happens here. */
  async answerFor(view: { name: string; version: number }): Promise<void> {
    try {
      const answered = await this.snapshots.answerDeferred({ name: view.name, version: view.version });
      if (answered > 0)
        this.logger.log(`${view.name}@${view.version}: ${answered} snapshot requests that waited for it answered`);
    } catch (error) {
      // A request left waiting is answered at the next start (answerLeftOver).
      this.logger.error(
        `${view.name}@${view.version}: snapshot requests that waited for it are left for the next start: ${(error as Error).message}`,
      );
    }
  }

  /** At start: requests that waited for a backfill a stopped process finished. */
  async answerLeftOver(): Promise<void> {
    await this.snapshots.answerDeferred();
  }
}
