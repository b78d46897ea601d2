import type { FromSchema } from '@mlops/http';

export const experimentParams = {
  type: 'object',
  additionalProperties: false,
  required: ['experimentId'],
  properties: { experimentId: { type: 'string', pattern: '^[0-9]{1,18}$' } },
} as const;
export type ExperimentParams = FromSchema<typeof experimentParams>;

export const runsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    filter: { type: 'string', maxLength: 4000, description: "MLflow's filter grammar, e.g. metrics.auc > 0.8" },
    orderBy: { type: 'string', maxLength: 500, description: 'comma-separated, e.g. "metrics.auc DESC"' },
  },
} as const;
export type RunsQuery = FromSchema<typeof runsQuery>;

export const runParams = {
  type: 'object',
  additionalProperties: false,
  required: ['runId'],
  properties: { runId: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
} as const;
export type RunParams = FromSchema<typeof runParams>;

export const compareQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['ids'],
  properties: {
    ids: { type: 'string', pattern: '^[0-9a-f]{32}(,[0-9a-f]{32}){0,49}$', description: 'run ids, comma-separated' },
  },
} as const;
export type CompareQuery = FromSchema<typeof compareQuery>;
