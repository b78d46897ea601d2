import type { FromSchema } from '@mlops/http';

/** ?version=N narrows to one model version; ?windowSeconds=S sets the tumbling window (default 3600). */
export const resourcesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'one model version' },
    windowSeconds: {
      type: 'string',
      pattern: '^[1-9][0-9]{1,6}$',
      description: 'window length in seconds (10 to 9999999; default 3600), windows aligned on the Unix epoch',
    },
  },
} as const;
export type ResourcesQuery = FromSchema<typeof resourcesQuery>;
