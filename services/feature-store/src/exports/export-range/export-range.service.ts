import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { EventTypes, type FeaturesExportRequestedV1, type FeaturesExportedV1 } from '@mlops/contracts';
import { type CloudEvent, PermanentHandlerError, enqueueInOutbox, newEvent } from '@mlops/messaging';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { ExportLog } from '../../infrastructure/export-log';
import { type BuiltExport, RangeExporter } from '../../offline/range-export';
import { SnapshotFormatError } from '../../offline/snapshot-format';
import { PG_SCHEMA, SOURCE } from '../../tokens';

type Requested = typeof EventTypes.FeaturesExportRequestedV1;
const EXPORTED = EventTypes.FeaturesExportedV1;

export type ExportError = DomainError<'unknown_feature_view' | 'view_not_ready' | 'invalid_time_range'>;

/**
 * A view's offline rows in an event-time range (batch scoring's input), answered through the outbox. An export is
 * made once per exportId: a repeated request gets the recorded answer, the same file. A refusal (unknown view, a
 * version still backfilling, an empty range) is answered as a failed export, not dead-lettered, so the requester's
 * job can say why; refusals are not recorded (the view may exist or be ready when asked again).
 */
@Injectable()
export class ExportRangeService {
  private readonly logger = new Logger('exports');
  /** Exports made by this process (tests read it). */
  exports = 0;

  constructor(
    private readonly catalog: CatalogStore,
    private readonly log: ExportLog,
    @Inject(RangeExporter) private readonly exporter: RangeExporter,
  ) {}

  async answer(event: CloudEvent<Requested>, manager: EntityManager, now = new Date()): Promise<FeaturesExportedV1> {
    const request = event.data;
    await this.log.lock(manager, request.exportId);
    let result = await this.log.find(manager, request.exportId);
    if (!result) {
      const built = await this.export(request, manager);
      result = exportedEvent(request, built, now);
      if (built.ok) {
        await this.log.record(manager, request, result);
        this.logger.log(
          `export ${request.exportId}: ${built.value.rows} rows of ${request.featureView.name}@${request.featureView.version}`,
        );
      } else this.logger.warn(`export ${request.exportId} refused: ${built.error.message}`);
    }
    await enqueueInOutbox(
      manager,
      PG_SCHEMA,
      newEvent(EXPORTED, result, { source: SOURCE, subject: request.exportId, causedBy: event }),
    );
    return result;
  }

  private async export(
    request: FeaturesExportRequestedV1,
    manager: EntityManager,
  ): Promise<Result<BuiltExport, ExportError>> {
    const { name, version } = request.featureView;
    if (!(Date.parse(request.timeRange.start) < Date.parse(request.timeRange.end)))
      return err(domainError('invalid_time_range', 'timeRange.start must be before timeRange.end'));
    const view = await this.catalog.view(name, version, manager);
    if (!view) return err(domainError('unknown_feature_view', `feature view ${name}@${version} does not exist`));
    const stored = await this.catalog.stored(name, version, manager);
    if (stored?.status !== 'ready')
      return err(domainError('view_not_ready', `feature view ${name}@${version} is being backfilled; ask again later`));
    const built = await this.exporter
      .export({ view: { name, version }, features: view.outputNames, timeRange: request.timeRange })
      .catch((error: unknown) => {
        // A feature named like the entity or event-time column: the same request can never succeed.
        if (error instanceof SnapshotFormatError)
          throw new PermanentHandlerError(`export ${request.exportId}: ${error.message}`);
        throw error;
      });
    this.exports += 1;
    return ok(built);
  }
}

/** The exported event for a request: the file, or why there is none. */
export function exportedEvent(
  request: FeaturesExportRequestedV1,
  built: Result<BuiltExport, ExportError>,
  createdAt: Date,
): FeaturesExportedV1 {
  return {
    exportId: request.exportId,
    featureView: { name: request.featureView.name, version: request.featureView.version },
    timeRange: { start: request.timeRange.start, end: request.timeRange.end },
    status: built.ok ? 'created' : 'failed',
    export: built.ok ? built.value : null,
    error: built.ok ? null : { code: built.error.kind, message: built.error.message },
    createdAt: createdAt.toISOString(),
  };
}
