import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventTypes, type TrainingRequestedV1 } from '@mlops/contracts';
import { type CloudEvent, enqueueInOutbox, newEvent } from '@mlops/messaging';
import { DEFAULT_ALGORITHM, algorithmOf } from '../../domain/training-job';
import { RunStore } from '../../infrastructure/run-store';
import { PG_SCHEMA, SOURCE } from '../../tokens';
import { TrainingTracking } from '../../tracking/training-tracking';
import { failRun } from '../fail-run';

type Requested = typeof EventTypes.TrainingRequestedV1;

/**
 * A training request creates its run and asks feature-store for a point-in-time snapshot, in the inbox
 * transaction. A request for a run that exists (the same trainingRunId again) has no effect.
 */
@Injectable()
export class StartTrainingService {
  private readonly logger = new Logger('training');

  constructor(
    private readonly runs: RunStore,
    private readonly tracking: TrainingTracking,
  ) {}

  async start(
    event: CloudEvent<Requested>,
    manager: EntityManager,
    now = new Date(),
  ): Promise<'started' | 'duplicate' | 'refused'> {
    const request: TrainingRequestedV1 = { ...event.data, algorithm: event.data.algorithm ?? DEFAULT_ALGORITHM };
    const snapshotId = randomUUID();
    if (!(await this.runs.create(manager, request, snapshotId, now))) {
      this.logger.log(`run ${request.trainingRunId}: requested again, nothing to do`);
      return 'duplicate';
    }
    await this.tracking.requested(manager, request, now);
    const algorithm = algorithmOf({ algorithm: request.algorithm ?? DEFAULT_ALGORITHM, task: request.task });
    if (!algorithm.ok || !(Date.parse(request.trainingWindow.start) < Date.parse(request.trainingWindow.end))) {
      const failure = algorithm.ok
        ? {
            stage: 'snapshot' as const,
            errorCode: 'invalid_window',
            message: 'trainingWindow.start must be before trainingWindow.end',
            retryable: false,
          }
        : {
            stage: 'training' as const,
            errorCode: algorithm.error.kind,
            message: algorithm.error.message,
            retryable: false,
          };
      await failRun(
        this.runs,
        this.tracking,
        manager,
        { id: request.trainingRunId, model: request.model, attempt: 1, snapshotId: null },
        null,
        failure,
        event,
        now,
      );
      return 'refused';
    }
    await enqueueInOutbox(
      manager,
      PG_SCHEMA,
      newEvent(
        EventTypes.DatasetSnapshotRequestedV1,
        {
          snapshotId,
          trainingRunId: request.trainingRunId,
          featureView: request.featureView,
          labels: request.labels,
          timeRange: request.trainingWindow,
          requestedAt: now.toISOString(),
        },
        { source: SOURCE, subject: request.trainingRunId, causedBy: event },
      ),
    );
    this.logger.log(
      `run ${request.trainingRunId}: ${request.model} (${request.algorithm}), snapshot ${snapshotId} requested`,
    );
    return 'started';
  }
}
