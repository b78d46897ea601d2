import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { POSTGRES } from '@mlops/storage';
import { type DatasetSnapshotCreatedV1, EventTypes } from '@mlops/contracts';
import { type CloudEvent, PermanentHandlerError, enqueueInOutbox, newEvent } from '@mlops/messaging';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { SnapshotLog } from '../../infrastructure/snapshot-log';
import { SnapshotFormatError, TrainingSetBuilder, snapshotCreatedEvent } from '../../offline';
import { PG_SCHEMA, SOURCE } from '../../tokens';

type Requested = typeof EventTypes.DatasetSnapshotRequestedV1;
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
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly log: SnapshotLog,
    @Inject(TrainingSetBuilder) private readonly builder: TrainingSetBuilder,
  ) {}

  /** Undefined when the request waits for its view version's backfill. */
  async answer(
    event: CloudEvent<Requested>,
    manager: EntityManager,
    now = new Date(),
  ): Promise<DatasetSnapshotCreatedV1 | undefined> {
    const request = event.data;
    await this.log.lock(manager, request.snapshotId);
    let result = await this.log.find(manager, request.snapshotId);
    if (!result) {
      const view = await this.catalog.view(request.featureView.name, request.featureView.version, manager);
      if (!view)
        throw new PermanentHandlerError(
          `snapshot ${request.snapshotId}: unknown feature view ${request.featureView.name}@${request.featureView.version}`,
        );
      const stored = await this.catalog.stored(view.name, view.version, manager);
      if (stored?.status !== 'ready') {
        // Its offline rows are still being written: answered when its backfill is done (answerDeferred).
        await this.log.defer(manager, event);
        this.logger.log(
          `snapshot ${request.snapshotId}: ${view.name}@${view.version} is being backfilled; the request waits for it`,
        );
        return undefined;
      }
      if (!(Date.parse(request.timeRange.start) < Date.parse(request.timeRange.end))) {
        throw new PermanentHandlerError(`snapshot ${request.snapshotId}: timeRange.start must be before timeRange.end`);
      }
      const built = await this.builder
        .build({
          view,
          labels: request.labels,
          timeRange: request.timeRange,
          ...(request.featureTtlSeconds !== undefined ? { featureTtlSeconds: request.featureTtlSeconds } : {}),
          semantics: request.semantics ?? 'as-known',
        })
        .catch((error: unknown) => {
          // e.g. a feature named like the label field: the same request can never succeed.
          if (error instanceof SnapshotFormatError)
            throw new PermanentHandlerError(`snapshot ${request.snapshotId}: ${error.message}`);
          throw error;
        });
      this.builds += 1;
      result = snapshotCreatedEvent(
        request,
        built,
        now,
        await this.datasetVersions(view.source.dataset, request, manager),
      );
      await this.log.record(manager, request, result);
      this.logger.log(
        `snapshot ${request.snapshotId}: ${built.rows} rows (${built.semantics}), sha256 ${built.sha256}`,
      );
      if (built.quality.warning) this.logger.warn(`snapshot ${request.snapshotId}: ${built.quality.warning}`);
    }
    await enqueueInOutbox(
      manager,
      PG_SCHEMA,
      newEvent(CREATED, result, { source: SOURCE, subject: request.snapshotId, causedBy: event }),
    );
    return result;
  }

  /**
   * The record schema versions of the view's source dataset and of the labels dataset as registered now, when the
   * training set is built (its lineage); undefined if either is not known here.
   */
  private async datasetVersions(
    source: string,
    request: { labels: { dataset: string } },
    manager: EntityManager,
  ): Promise<DatasetSnapshotCreatedV1['datasetVersions']> {
    const [features, labels] = await Promise.all([
      this.catalog.dataset(source, manager),
      this.catalog.dataset(request.labels.dataset, manager),
    ]);
    if (!features || !labels) return undefined;
    return {
      features: { dataset: features.name, version: features.version },
      labels: { dataset: labels.name, version: labels.version },
    };
  }

  /**
   * Answers the requests that waited for a backfill, of one view version or of every ready one (at start, for
   * those a stopped process left); each in its own transaction. A request that cannot be built is logged and
   * dropped, as its event would have been dead-lettered.
   */
  async answerDeferred(view?: { name: string; version: number }): Promise<number> {
    let answered = 0;
    for (const event of await this.log.deferredReady(this.dataSource.manager, view)) {
      try {
        await this.dataSource.transaction(async (manager) => {
          await this.log.lock(manager, event.data.snapshotId);
          if (!(await this.log.forgetDeferred(manager, event.data.snapshotId))) return;
          await this.answer(event, manager);
          answered += 1;
        });
      } catch (error) {
        if (!(error instanceof PermanentHandlerError)) throw error;
        this.logger.error(`deferred snapshot ${event.data.snapshotId} dropped: ${error.message}`);
        await this.dataSource.transaction((manager) => this.log.forgetDeferred(manager, event.data.snapshotId));
      }
    }
    return answered;
  }
}
