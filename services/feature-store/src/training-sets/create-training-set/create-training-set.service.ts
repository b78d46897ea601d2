import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type DatasetSnapshotRequestedV1, EventTypes } from '@mlops/contracts';
import { PermanentHandlerError, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { SnapshotLog } from '../../infrastructure/snapshot-log';
import { BuildSnapshotService } from '../../snapshots/build-snapshot/build-snapshot.service';
import { SOURCE } from '../../tokens';
import { type TrainingSetResponse, trainingSetView } from '../training-set.view';
import type { CreateTrainingSetRequest } from './create-training-set.request';

/** view_not_found: no such view version; invalid_time_range: start not before end; unbuildable: it can never be built. */
export type CreateTrainingSetError = DomainError<'view_not_found' | 'invalid_time_range' | 'unbuildable'>;

export interface CreatedTrainingSet {
  readonly trainingSet: TrainingSetResponse;
  /** False when the id was known: the answer recorded for its first request. */
  readonly created: boolean;
}

/**
 * A training set for a person: the same request and build as mlops.dataset.snapshot.requested.v1 (the created event
 * is announced too), idempotent on its id. Pending while its view version is being backfilled.
 */
@Injectable()
export class CreateTrainingSetService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly log: SnapshotLog,
    private readonly snapshots: BuildSnapshotService,
  ) {}

  async create(
    request: CreateTrainingSetRequest,
    now = new Date(),
  ): Promise<Result<CreatedTrainingSet, CreateTrainingSetError>> {
    const known = await this.dataSource.transaction(async (manager) => {
      await this.log.lock(manager, request.id);
      const result = await this.log.find(manager, request.id);
      if (result) return trainingSetView(request.id, result);
      return (await this.log.isDeferred(manager, request.id)) ? trainingSetView(request.id, undefined) : undefined;
    });
    if (known) return ok({ trainingSet: known, created: false });
    if (!(Date.parse(request.timeRange.start) < Date.parse(request.timeRange.end)))
      return err(domainError('invalid_time_range', 'timeRange.start must be before timeRange.end'));
    const { name, version } = request.featureView;
    if (!(await this.catalog.view(name, version)))
      return err(domainError('view_not_found', `feature view ${name}@${version} does not exist`));

    const data: DatasetSnapshotRequestedV1 = {
      snapshotId: request.id,
      trainingRunId: request.trainingRunId ?? request.id,
      featureView: request.featureView,
      labels: request.labels,
      timeRange: request.timeRange,
      ...(request.featureTtlSeconds !== undefined ? { featureTtlSeconds: request.featureTtlSeconds } : {}),
      semantics: request.semantics ?? 'as-known',
      requestedAt: now.toISOString(),
    };
    const event = newEvent(EventTypes.DatasetSnapshotRequestedV1, data, {
      source: SOURCE,
      subject: request.id,
      time: now,
    });
    try {
      const result = await this.dataSource.transaction((manager) => this.snapshots.answer(event, manager, now));
      return ok({ trainingSet: trainingSetView(request.id, result), created: true });
    } catch (error) {
      if (error instanceof PermanentHandlerError) return err(domainError('unbuildable', error.message));
      throw error;
    }
  }
}
