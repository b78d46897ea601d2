import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TrainingRequestedV1 } from '@mlops/contracts';
import type { SearchOutcome } from '../domain/hyperparameter-search';
import {
  type DatasetInput,
  type KeyValue,
  PARENT_RUN_TAG,
  type MetricPoint,
  RUN_NAME_TAG,
  USER_TAG,
  runArtifactUri,
  trackedRunIdOf,
} from '../domain/tracking';
import { TrackingStore } from '../infrastructure/tracking-store';

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** What a finished training tells the tracking: the params it used, its metrics and curves, the model artifact. */
export interface TrainingRecord {
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number>>;
  /** Per-step series (the boosting curve): one point per step and key. */
  readonly series: readonly { key: string; step: number; value: number }[];
  readonly model: { uri: string; sha256: string; sizeBytes: number; mediaType: string; path: string };
  readonly extraArtifacts: readonly {
    uri: string;
    sha256: string;
    sizeBytes: number;
    mediaType: string;
    path: string;
  }[];
  readonly tags: Readonly<Record<string, string>>;
  /** The datasets it trained on, as MLflow dataset inputs (the training set snapshot). */
  readonly inputs: readonly DatasetInput[];
  /** The hyperparameter search, whose trials become child runs. */
  readonly search: SearchOutcome | null;
}

/** The tracked run id of a trial: derived from its parent and index, so a retried training records it once. */
export function trialRunIdOf(parentRunId: string, index: number): string {
  return createHash('sha256').update(`${parentRunId}:trial:${index}`).digest('hex').slice(0, 32);
}

/**
 * Our own training runs as tracked runs of the experiment named after the model: created when the request
 * arrives (in the inbox transaction), running when a trainer claims it, finished or failed with the run.
 */
@Injectable()
export class TrainingTracking {
  constructor(private readonly store: TrackingStore) {}

  async requested(manager: EntityManager, request: TrainingRequestedV1, now: Date): Promise<string> {
    const runId = trackedRunIdOf(request.trainingRunId);
    const experiment = await this.store.ensureExperiment(manager, request.model, request.requestedBy, now.getTime());
    const runName = `${request.model}-${request.trainingRunId.slice(0, 8)}`;
    const created = await this.store.createRun(manager, {
      runId,
      experimentId: experiment.experimentId,
      runName,
      userId: request.requestedBy,
      status: 'SCHEDULED',
      startTime: Date.parse(request.requestedAt) || now.getTime(),
      artifactUri: runArtifactUri(experiment.experimentId, runId),
      parentRunId: null,
      trainingRunId: request.trainingRunId,
      reason: request.reason ?? null,
    });
    if (!created) return runId;
    const params: KeyValue[] = Object.entries(request.params ?? {}).map(([key, value]) => ({
      key,
      value: asText(value),
    }));
    params.push({ key: 'algorithm', value: request.algorithm ?? 'gradient_boosting' });
    if (request.holdoutFraction !== undefined)
      params.push({ key: 'holdout_fraction', value: String(request.holdoutFraction) });
    await this.store.logParams(manager, runId, params);
    const tags: Record<string, string> = {
      [RUN_NAME_TAG]: runName,
      [USER_TAG]: request.requestedBy,
      'mlflow.source.type': 'JOB',
      'mlflow.source.name': 'mlops-trainer',
      'mlops.training_run_id': request.trainingRunId,
      'mlops.task': request.task,
      'mlops.feature_view': `${request.featureView.name}:${request.featureView.version}`,
      'mlops.labels': `${request.labels.dataset}.${request.labels.field}`,
      'mlops.training_window': `${request.trainingWindow.start}/${request.trainingWindow.end}`,
    };
    if (request.reason) {
      tags['mlops.reason'] = request.reason.trigger;
      if (request.reason.detail) tags['mlops.reason_detail'] = request.reason.detail;
      if (request.reason.causeEventId) tags['mlops.cause_event_id'] = request.reason.causeEventId;
    }
    await this.store.setTags(
      manager,
      runId,
      Object.entries(tags).map(([key, value]) => ({ key, value })),
    );
    return runId;
  }

  async started(manager: EntityManager, trainingRunId: string): Promise<void> {
    await this.store.updateRun(manager, trackedRunIdOf(trainingRunId), { status: 'RUNNING' });
  }

  async succeeded(manager: EntityManager, trainingRunId: string, record: TrainingRecord, now: Date): Promise<void> {
    const runId = trackedRunIdOf(trainingRunId);
    if (!(await this.store.runInfo(manager, runId))) return;
    const timestamp = now.getTime();
    // Params the request did not name (the defaults the algorithm used) are added; named ones stay as asked.
    await this.store.logParams(
      manager,
      runId,
      Object.entries(record.params).map(([key, value]) => ({ key, value: asText(value) })),
    );
    const points: MetricPoint[] = [
      ...Object.entries(record.metrics)
        .filter(([, value]) => typeof value === 'number')
        .map(([key, value]) => ({ key, value, timestamp, step: 0 })),
      ...record.series.map((point) => ({ ...point, timestamp })),
    ];
    await this.store.logMetrics(manager, runId, points);
    await this.store.setTags(
      manager,
      runId,
      Object.entries(record.tags).map(([key, value]) => ({ key, value })),
    );
    await this.store.logInputs(manager, runId, record.inputs, timestamp);
    await this.store.putArtifact(
      manager,
      runId,
      {
        path: record.model.path,
        uri: record.model.uri,
        sha256: record.model.sha256,
        sizeBytes: record.model.sizeBytes,
        mediaType: record.model.mediaType,
      },
      now,
    );
    for (const artifact of record.extraArtifacts) await this.store.putArtifact(manager, runId, artifact, now);
    if (record.search) await this.trials(manager, runId, record.search, timestamp);
    await this.store.updateRun(manager, runId, { status: 'FINISHED', endTime: timestamp });
  }

  /** Each trial of the search as a child run: its params, its validation metric per rung, its state. */
  private async trials(manager: EntityManager, parentRunId: string, search: SearchOutcome, now: number): Promise<void> {
    const parent = await this.store.runInfo(manager, parentRunId);
    if (!parent) return;
    for (const trial of search.trials) {
      const runId = trialRunIdOf(parentRunId, trial.index);
      const runName = `${parent.runName}-trial-${trial.index}`;
      const created = await this.store.createRun(manager, {
        runId,
        experimentId: parent.experimentId,
        runName,
        userId: parent.userId,
        status: trial.state === 'failed' ? 'FAILED' : 'FINISHED',
        startTime: now - trial.durationMs,
        artifactUri: runArtifactUri(parent.experimentId, runId),
        parentRunId,
        trainingRunId: null,
        reason: null,
      });
      if (!created) continue;
      await this.store.updateRun(manager, runId, { endTime: now });
      await this.store.logParams(
        manager,
        runId,
        Object.entries(trial.params).map(([key, value]) => ({ key, value: asText(value) })),
      );
      await this.store.logMetrics(manager, runId, [
        ...trial.scores.flatMap((score) => [
          { key: `validation_${search.metric}`, value: score.value, timestamp: now, step: score.rung },
          { key: 'budget', value: score.budget, timestamp: now, step: score.rung },
        ]),
        ...Object.entries(trial.metrics)
          .filter(([key]) => key !== search.metric)
          .map(([key, value]) => ({ key: `validation_${key}`, value, timestamp: now, step: trial.scores.length - 1 })),
      ]);
      await this.store.setTags(manager, runId, [
        { key: PARENT_RUN_TAG, value: parentRunId },
        { key: RUN_NAME_TAG, value: runName },
        { key: USER_TAG, value: parent.userId },
        { key: 'mlops.trial.index', value: String(trial.index) },
        { key: 'mlops.trial.state', value: trial.state },
        { key: 'mlops.trial.best', value: String(trial.index === search.bestTrial) },
        ...(trial.error ? [{ key: 'mlops.trial.error', value: trial.error.slice(0, 8000) }] : []),
      ]);
    }
    const count = (state: string): number => search.trials.filter((trial) => trial.state === state).length;
    await this.store.logMetrics(manager, parentRunId, [
      { key: 'search_trials', value: search.trials.length, timestamp: now, step: 0 },
      { key: 'search_pruned_trials', value: count('pruned'), timestamp: now, step: 0 },
      { key: 'search_failed_trials', value: count('failed'), timestamp: now, step: 0 },
    ]);
    await this.store.setTags(manager, parentRunId, [
      { key: 'mlops.search.strategy', value: search.strategy },
      { key: 'mlops.search.metric', value: `${search.metric} (${search.direction})` },
      { key: 'mlops.search.best_trial_run_id', value: trialRunIdOf(parentRunId, search.bestTrial) },
      { key: 'mlops.search.stopped_by_time', value: String(search.stoppedByTime) },
    ]);
  }

  async failed(
    manager: EntityManager,
    trainingRunId: string,
    failure: { errorCode: string; message: string },
    now: Date,
  ): Promise<void> {
    const runId = trackedRunIdOf(trainingRunId);
    if (!(await this.store.runInfo(manager, runId))) return;
    await this.store.setTags(manager, runId, [
      { key: 'mlops.error_code', value: failure.errorCode },
      { key: 'mlops.error_message', value: failure.message.slice(0, 8000) },
    ]);
    await this.store.updateRun(manager, runId, { status: 'FAILED', endTime: now.getTime() });
  }
}
