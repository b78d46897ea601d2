import { type MlflowErrorCode, mlflowResponder } from '@mlops/http';
import type { Experiment, MetricPoint, TrackedRun, TrackedRunInfo } from '../../domain/tracking';
import type { TrackingErrorKind } from '../tracking.service';

export { MlflowBody, MlflowQuery, mlflowError, mlflowErrorResponse } from '@mlops/http';

const MLFLOW_ERRORS: Record<TrackingErrorKind, MlflowErrorCode> = {
  not_found: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  already_exists: { code: 'RESOURCE_ALREADY_EXISTS', status: 400 },
  invalid_parameter: { code: 'INVALID_PARAMETER_VALUE', status: 400 },
  invalid_state: { code: 'INVALID_STATE', status: 400 },
};

/** The value of a result, or MLflow's error answer for its error. */
export const mlflowRespond = mlflowResponder(MLFLOW_ERRORS);

export const integer = (value: number | string | undefined): number | undefined =>
  value === undefined ? undefined : Number(value);

export const double = (value: number | string): number =>
  typeof value === 'number'
    ? value
    : value === 'NaN'
      ? NaN
      : value === 'Infinity'
        ? Infinity
        : value === '-Infinity'
          ? -Infinity
          : Number(value);

const jsonDouble = (value: number): number | string =>
  Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : value;

export function experimentView(experiment: Experiment): Record<string, unknown> {
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    creation_time: experiment.creationTime,
    last_update_time: experiment.lastUpdateTime,
    tags: Object.entries(experiment.tags).map(([key, value]) => ({ key, value })),
  };
}

export function runInfoView(info: TrackedRunInfo): Record<string, unknown> {
  return {
    run_id: info.runId,
    run_uuid: info.runId,
    run_name: info.runName,
    experiment_id: info.experimentId,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    ...(info.endTime === null ? {} : { end_time: info.endTime }),
    artifact_uri: info.artifactUri,
    lifecycle_stage: info.lifecycleStage,
  };
}

export function metricView(point: MetricPoint): Record<string, unknown> {
  return { key: point.key, value: jsonDouble(point.value), timestamp: point.timestamp, step: point.step };
}

export function runView(run: TrackedRun): Record<string, unknown> {
  return {
    info: runInfoView(run.info),
    data: {
      metrics: run.metrics.map(metricView),
      params: run.params.map(({ key, value }) => ({ key, value })),
      tags: run.tags.map(({ key, value }) => ({ key, value })),
    },
    inputs:
      run.inputs.length === 0
        ? {}
        : {
            dataset_inputs: run.inputs.map(({ dataset, tags }) => ({
              tags: tags.map(({ key, value }) => ({ key, value })),
              dataset: {
                name: dataset.name,
                digest: dataset.digest,
                source_type: dataset.sourceType,
                source: dataset.source,
                ...(dataset.schema === undefined ? {} : { schema: dataset.schema }),
                ...(dataset.profile === undefined ? {} : { profile: dataset.profile }),
              },
            })),
          },
  };
}
