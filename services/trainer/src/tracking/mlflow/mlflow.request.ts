import type { FromSchema } from '@mlops/http';

// The request messages of MLflow's tracking REST API (mlflow/protos/service.proto), as the Python client sends
// them: snake_case fields, int64 as numbers (older clients: strings), fields left unset omitted.

const STRING = { type: 'string' } as const;
const INT64 = { type: ['integer', 'string'], pattern: '^-?[0-9]+$' } as const;
const DOUBLE = { type: ['number', 'string'], description: 'a number, or "NaN", "Infinity", "-Infinity"' } as const;
const KEY_VALUE = {
  type: 'object',
  additionalProperties: false,
  required: ['key'],
  properties: { key: STRING, value: STRING },
} as const;
const METRIC = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'value', 'timestamp'],
  properties: {
    key: STRING,
    value: DOUBLE,
    timestamp: INT64,
    step: INT64,
    run_id: STRING,
    model_id: STRING,
    dataset_name: STRING,
    dataset_digest: STRING,
  },
} as const;
const VIEW_TYPE = { enum: ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] } as const;
const RUN_REF = { run_id: STRING, run_uuid: STRING } as const;

export const getExperimentByNameQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['experiment_name'],
  properties: { experiment_name: STRING },
} as const;
export type GetExperimentByNameQuery = FromSchema<typeof getExperimentByNameQuery>;

export const getExperimentQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['experiment_id'],
  properties: { experiment_id: STRING },
} as const;
export type GetExperimentQuery = FromSchema<typeof getExperimentQuery>;

export const createExperimentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: STRING, artifact_location: STRING, tags: { type: 'array', items: KEY_VALUE } },
} as const;
export type CreateExperimentBody = FromSchema<typeof createExperimentBody>;

export const setExperimentTagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['experiment_id', 'key'],
  properties: { experiment_id: STRING, key: STRING, value: STRING },
} as const;
export type SetExperimentTagBody = FromSchema<typeof setExperimentTagBody>;

export const searchExperimentsBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max_results: INT64,
    page_token: STRING,
    filter: STRING,
    order_by: { type: 'array', items: STRING },
    view_type: VIEW_TYPE,
  },
} as const;
export type SearchExperimentsBody = FromSchema<typeof searchExperimentsBody>;

export const createRunBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    experiment_id: STRING,
    user_id: STRING,
    start_time: INT64,
    run_name: STRING,
    tags: { type: 'array', items: KEY_VALUE },
  },
} as const;
export type CreateRunBody = FromSchema<typeof createRunBody>;

export const getRunQuery = {
  type: 'object',
  additionalProperties: false,
  properties: RUN_REF,
} as const;
export type GetRunQuery = FromSchema<typeof getRunQuery>;

export const updateRunBody = {
  type: 'object',
  additionalProperties: false,
  properties: { ...RUN_REF, status: STRING, end_time: INT64, run_name: STRING },
} as const;
export type UpdateRunBody = FromSchema<typeof updateRunBody>;

export const logMetricBody = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'value', 'timestamp'],
  properties: { ...METRIC.properties, run_uuid: STRING },
} as const;
export type LogMetricBody = FromSchema<typeof logMetricBody>;

export const logParamBody = {
  type: 'object',
  additionalProperties: false,
  required: ['key'],
  properties: { ...RUN_REF, key: STRING, value: STRING },
} as const;
export type LogParamBody = FromSchema<typeof logParamBody>;

export const setTagBody = logParamBody;
export type SetTagBody = LogParamBody;

export const deleteTagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['run_id', 'key'],
  properties: { run_id: STRING, key: STRING },
} as const;
export type DeleteTagBody = FromSchema<typeof deleteTagBody>;

export const logBatchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['run_id'],
  properties: {
    run_id: STRING,
    metrics: { type: 'array', items: METRIC, maxItems: 1000 },
    params: { type: 'array', items: KEY_VALUE, maxItems: 100 },
    tags: { type: 'array', items: KEY_VALUE, maxItems: 100 },
  },
} as const;
export type LogBatchBody = FromSchema<typeof logBatchBody>;

/** MLflow's LogInputs: a run's datasets (name and digest identify one) with their input tags; model inputs ignored. */
export const logInputsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['run_id'],
  properties: {
    run_id: STRING,
    datasets: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['dataset'],
        properties: {
          tags: { type: 'array', items: KEY_VALUE, maxItems: 100 },
          dataset: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'digest', 'source_type', 'source'],
            properties: {
              name: { type: 'string', maxLength: 500 },
              digest: { type: 'string', maxLength: 36 },
              source_type: { type: 'string', maxLength: 36 },
              source: { type: 'string', maxLength: 65_535 },
              schema: { type: 'string', maxLength: 1_048_575 },
              profile: { type: 'string', maxLength: 16_777_215 },
            },
          },
        },
      },
    },
    models: {
      type: 'array',
      description: 'logged model inputs (MLflow 3): accepted, not kept',
      items: { type: 'object', additionalProperties: false, properties: { model_id: STRING } },
    },
  },
} as const;
export type LogInputsBody = FromSchema<typeof logInputsBody>;

export const searchRunsBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    experiment_ids: { type: 'array', items: STRING },
    filter: STRING,
    run_view_type: VIEW_TYPE,
    max_results: INT64,
    order_by: { type: 'array', items: STRING },
    page_token: STRING,
  },
} as const;
export type SearchRunsBody = FromSchema<typeof searchRunsBody>;

export const metricHistoryQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['metric_key'],
  properties: { ...RUN_REF, metric_key: STRING, max_results: STRING, page_token: STRING },
} as const;
export type MetricHistoryQuery = FromSchema<typeof metricHistoryQuery>;

export const listArtifactsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { path: STRING },
} as const;
export type ListArtifactsQuery = FromSchema<typeof listArtifactsQuery>;
