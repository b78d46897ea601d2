// Experiment tracking as MLflow models it: experiments hold runs; a run has params (set once), metrics (a history
// of values by step), tags, artifacts, and may be the child of another run (a trial of a search).

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type TrackedRunStatus = (typeof RUN_STATUSES)[number];
export type LifecycleStage = 'active' | 'deleted';

/** The tag MLflow reads a parent run from; we keep it in step with the parent column. */
export const PARENT_RUN_TAG = 'mlflow.parentRunId';
export const RUN_NAME_TAG = 'mlflow.runName';
export const USER_TAG = 'mlflow.user';

export interface Experiment {
  readonly experimentId: string;
  readonly name: string;
  readonly artifactLocation: string;
  readonly lifecycleStage: LifecycleStage;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdBy: string | null;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
}

export interface TrackedRunInfo {
  readonly runId: string;
  readonly experimentId: string;
  readonly runName: string;
  readonly userId: string;
  readonly status: TrackedRunStatus;
  readonly startTime: number;
  readonly endTime: number | null;
  readonly artifactUri: string;
  readonly lifecycleStage: LifecycleStage;
  readonly parentRunId: string | null;
  /** The platform's training run this tracked run records, when it is one of ours. */
  readonly trainingRunId: string | null;
  /** Why the run was asked for (the training request's reason). */
  readonly reason: unknown;
}

export interface MetricPoint {
  readonly key: string;
  readonly value: number;
  readonly timestamp: number;
  readonly step: number;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface TrackedRun {
  readonly info: TrackedRunInfo;
  /** The latest value of each metric: the highest step, then the latest timestamp (as MLflow). */
  readonly metrics: readonly MetricPoint[];
  readonly params: readonly KeyValue[];
  readonly tags: readonly KeyValue[];
  /** Its dataset inputs (MLflow's log_input), in the order first logged. */
  readonly inputs: readonly DatasetInput[];
}

/** A dataset a run used, as MLflow logs it: the dataset (name and digest identify it) and the input's tags. */
export interface DatasetInput {
  readonly dataset: {
    readonly name: string;
    readonly digest: string;
    readonly sourceType: string;
    readonly source: string;
    readonly schema?: string;
    readonly profile?: string;
  };
  readonly tags: readonly KeyValue[];
}

export interface StoredArtifact {
  readonly path: string;
  readonly uri: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly mediaType: string;
}

/** Where a run's artifacts live, in MLflow's proxied-artifact scheme: served by our artifact proxy. */
export function runArtifactUri(experimentId: string, runId: string): string {
  return `mlflow-artifacts:/${experimentId}/${runId}/artifacts`;
}

export function experimentArtifactLocation(experimentId: string): string {
  return `mlflow-artifacts:/${experimentId}`;
}

/** A tracked run id for a training run: its uuid without dashes (MLflow run ids are 32 hex characters). */
export function trackedRunIdOf(trainingRunId: string): string {
  return trainingRunId.replace(/-/g, '').toLowerCase();
}

/**
 * A metric value as a run's metrics list holds it, picking the latest point of each key: the highest step,
 * then the latest timestamp, then the highest value.
 */
export function latestPoints(points: readonly MetricPoint[]): MetricPoint[] {
  const latest = new Map<string, MetricPoint>();
  for (const point of points) {
    const seen = latest.get(point.key);
    if (
      !seen ||
      point.step > seen.step ||
      (point.step === seen.step && point.timestamp > seen.timestamp) ||
      (point.step === seen.step && point.timestamp === seen.timestamp && point.value > seen.value)
    )
      latest.set(point.key, point);
  }
  return [...latest.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** What the search grammar compares for a run. */
export function searchableRun(run: TrackedRun): {
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
  attributes: Record<string, string | number | null>;
} {
  return {
    metrics: Object.fromEntries(run.metrics.map((m) => [m.key, m.value])),
    params: Object.fromEntries(run.params.map((p) => [p.key, p.value])),
    tags: Object.fromEntries(run.tags.map((t) => [t.key, t.value])),
    attributes: {
      run_id: run.info.runId,
      run_name: run.info.runName,
      status: run.info.status,
      user_id: run.info.userId,
      start_time: run.info.startTime,
      end_time: run.info.endTime,
      artifact_uri: run.info.artifactUri,
      lifecycle_stage: run.info.lifecycleStage,
      experiment_id: run.info.experimentId,
    },
  };
}

export function searchableExperiment(experiment: Experiment): {
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
  attributes: Record<string, string | number | null>;
} {
  return {
    metrics: {},
    params: {},
    tags: { ...experiment.tags },
    attributes: {
      name: experiment.name,
      experiment_id: experiment.experimentId,
      creation_time: experiment.creationTime,
      last_update_time: experiment.lastUpdateTime,
      lifecycle_stage: experiment.lifecycleStage,
    },
  };
}
