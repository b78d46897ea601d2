import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { type DatasetSnapshotCreatedV1, EventTypes } from '@mlops/contracts';
import { type CloudEvent, PermanentHandlerError, enqueueInOutbox, newEvent } from '@mlops/messaging';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { SnapshotLog } from '../../infrastructure/snapshot-log';
import { SnapshotBuilder, SnapshotFormatError, snapshotCreatedEvent } from '../../offline';
import { PG_SCHEMA, SOURCE } from '../../tokens';

const REQUESTED = EventTypes.DatasetSnapshotRequestedV1;
const CREATED = EventTypes.DatasetSnapshotCreatedV1;

/**
 * A point-in-time training set for a snapshot request, answered through the outbox. At most one build per
 * snapshotId: a repeated request gets the answer recorded for the first one.
 */
@Injectable()
export class BuildSnapshotService {
  private readonly logger = new Logger('snapshots');
  /** Builds done by this process (tests and metrics read it). */
  builds = 0;

  constructor(
    private readonly catalog: CatalogStore,
    private readonly log: SnapshotLog,
    @Inject(SnapshotBuilder) private readonly builder: SnapshotBuilder,
  ) {}

  async answer(event: CloudEvent<typeof REQUESTED>, manager: EntityManager, now = new Date()): Promise<DatasetSnapshotCreatedV1> {
    const request = event.data;
    await this.log.lock(manager, request.snapshotId);
    let result = await this.log.find(manager, request.snapshotId);
    if (!result) {
      const view = await this.catalog.view(request.featureView.name, request.featureView.version, manager);
      if (!view) throw new PermanentHandlerError(`snapshot ${request.snapshotId}: unknown feature view ${request.featureView.name}@${request.featureView.version}`);
      const stored = await this.catalog.stored(view.name, view.version, manager);
      // Its offline rows are still being written: retried (and dead-lettered if the backfill outlasts the retries).
      if (stored?.status !== 'ready') throw new Error(`snapshot ${request.snapshotId}: ${view.name}@${view.version} is still being backfilled`);
      if (!(Date.parse(request.timeRange.start) < Date.parse(request.timeRange.end))) {
        throw new PermanentHandlerError(`snapshot ${request.snapshotId}: timeRange.start must be before timeRange.end`);
      }
      const built = await this.builder
        .buildSnapshot(
          {
            featureView: request.featureView,
            labels: request.labels,
            timeRange: request.timeRange,
            ...(request.featureTtlSeconds !== undefined ? { featureTtlSeconds: request.featureTtlSeconds } : {}),
          },
          { features: view.outputNames },
        )
        .catch((error: unknown) => {
          // e.g. a feature named like the label field: the same request can never succeed.
          if (error instanceof SnapshotFormatError) throw new PermanentHandlerError(`snapshot ${request.snapshotId}: ${error.message}`);
          throw error;
        });
      this.builds += 1;
      result = snapshotCreatedEvent(request, built, now);
      await this.log.record(manager, request, result);
      this.logger.log(`snapshot ${request.snapshotId}: ${built.rows} rows, sha256 ${built.sha256}`);
    }
    await enqueueInOutbox(manager, PG_SCHEMA, newEvent(CREATED, result, { source: SOURCE, subject: request.snapshotId, causedBy: event }));
    return result;
  }
}
