import type { FromSchema } from '@mlops/http';
import { datasetNameParam } from '../dataset-name.request';

/** `GET /datasets/:name`. */
export const latestDatasetParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: datasetNameParam },
} as const;
export type LatestDatasetParams = FromSchema<typeof latestDatasetParams>;

/** `GET /datasets/:name/versions/:version`: a version is a positive integer. */
export const datasetVersionParams = {
  type: 'object',
  required: ['name', 'version'],
  additionalProperties: false,
  properties: {
    name: datasetNameParam,
    version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'version number, from 1' },
  },
} as const;
export type DatasetVersionParams = FromSchema<typeof datasetVersionParams>;
