import type { EntityManager } from 'typeorm';
import { EventTypes } from '@mlops/contracts';
import { type CloudEvent, enqueueInOutbox, newEvent } from '@mlops/messaging';
import type { RunFailure, RunStore } from '../infrastructure/run-store';
import { PG_SCHEMA, SOURCE } from '../tokens';
import type { TrainingTracking } from '../tracking/training-tracking';

/** Ends a run as failed (its tracked run too) and says why in `mlops.training.failed.v1`, in the caller's transaction. */
export async function failRun(
  runs: RunStore,
  tracking: TrainingTracking,
  manager: EntityManager,
  run: { id: string; model: string; attempt: number; snapshotId: string | null },
  owner: string | null,
  failure: RunFailure,
  causedBy: Pick<CloudEvent, 'id' | 'correlationid'> | undefined,
  now: Date,
): Promise<boolean> {
  if (!(await runs.finish(manager, run.id, owner, { status: 'failed', failure }, now))) return false;
  await tracking.failed(manager, run.id, failure, now);
  await enqueueInOutbox(
    manager,
    PG_SCHEMA,
    newEvent(
      EventTypes.TrainingFailedV1,
      {
        trainingRunId: run.id,
        model: run.model,
        stage: failure.stage,
        errorCode: failure.errorCode,
        message: failure.message.slice(0, 4000),
        retryable: failure.retryable,
        attempt: Math.max(1, run.attempt),
        snapshotId: run.snapshotId,
        failedAt: now.toISOString(),
      },
      { source: SOURCE, subject: run.id, ...(causedBy ? { causedBy } : {}) },
    ),
  );
  return true;
}
