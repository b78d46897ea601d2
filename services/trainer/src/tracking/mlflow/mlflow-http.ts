import 'reflect-metadata';
import { Body, HttpException, Injectable, type PipeTransform, Query } from '@nestjs/common';
import type { Result } from '@mlops/core';
import { type ObjectSchema, REQUEST_SCHEMAS, type RequestValidator, requestValidator } from '@mlops/http';
import type { Experiment, MetricPoint, TrackedRun, TrackedRunInfo } from '../../domain/tracking';
import type { TrackingError, TrackingErrorKind } from '../tracking.service';

/** MLflow's error body: the client reads `error_code` (e.g. RESOURCE_DOES_NOT_EXIST) and shows `message`. */
export interface MlflowErrorBody {
  error_code: string;
  message: string;
}

const MLFLOW_ERRORS: Record<TrackingErrorKind, { code: string; status: number }> = {
  not_found: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  already_exists: { code: 'RESOURCE_ALREADY_EXISTS', status: 400 },
  invalid_parameter: { code: 'INVALID_PARAMETER_VALUE', status: 400 },
  invalid_state: { code: 'INVALID_STATE', status: 400 },
};

export function mlflowError(code: string, message: string, status: number): HttpException {
  return new HttpException({ error_code: code, message } satisfies MlflowErrorBody, status);
}

/** The value of a result, or MLflow's error answer for its error. */
export function mlflowRespond<T>(result: Result<T, TrackingError>): T {
  if (result.ok) return result.value;
  const { code, status } = MLFLOW_ERRORS[result.error.kind];
  throw mlflowError(code, result.error.message, status);
}

/** Checks a request part against its schema; an invalid request is MLflow's INVALID_PARAMETER_VALUE. */
@Injectable()
class MlflowSchemaPipe<T> implements PipeTransform<unknown, T> {
  private readonly validate: RequestValidator<T>;

  constructor(schema: ObjectSchema, part: string) {
    this.validate = requestValidator<T>(schema, `mlflow ${part} schema`);
  }

  transform(value: unknown): T {
    const check = this.validate(value ?? {});
    if (check.ok) return check.value;
    const issues = check.issues.map((issue) => `${issue.path === '' ? '(root)' : issue.path} ${issue.message}`);
    throw mlflowError('INVALID_PARAMETER_VALUE', `Invalid request: ${issues.join('; ')}`, 400);
  }
}

function mlflowPart(part: 'body' | 'query', schema: ObjectSchema): ParameterDecorator {
  const pipe = new MlflowSchemaPipe(schema, part);
  const bind = part === 'body' ? Body(pipe) : Query(pipe);
  return (target, propertyKey, index) => {
    bind(target, propertyKey, index);
    if (propertyKey === undefined) return;
    const handler = (target as Record<string | symbol, object>)[propertyKey]!;
    Reflect.defineMetadata(
      REQUEST_SCHEMAS,
      { ...(Reflect.getMetadata(REQUEST_SCHEMAS, handler) ?? {}), [part]: schema },
      handler,
    );
  };
}

export const MlflowBody = (schema: ObjectSchema): ParameterDecorator => mlflowPart('body', schema);
export const MlflowQuery = (schema: ObjectSchema): ParameterDecorator => mlflowPart('query', schema);

/** The errors every MLflow operation may answer, for the OpenAPI document. */
export const mlflowErrorResponse = (description: string) => ({
  description,
  schema: {
    type: 'object',
    required: ['error_code', 'message'],
    properties: { error_code: { type: 'string' }, message: { type: 'string' } },
  },
});

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
    inputs: {},
  };
}
