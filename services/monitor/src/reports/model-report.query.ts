import type { FromSchema } from '@mlops/http';

/** ?version=N narrows a report to one model version. */
export const reportQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'one model version' } },
} as const;
export type ReportQuery = FromSchema<typeof reportQuery>;
