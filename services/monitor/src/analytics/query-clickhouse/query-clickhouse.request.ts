import type { FromSchema } from '@mlops/http';

/**
 * The ClickHouse HTTP interface's URL parameters: the query (or the body), its output format, `param_<name>`
 * query parameters; whatever else a ClickHouse client sends (database, query_id, settings) is accepted and
 * ignored: limits and read-only are the monitor's.
 */
export const clickhouseQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    query: { type: 'string', maxLength: 100_000, description: 'the SELECT (or the part before the body)' },
    default_format: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$', description: 'output format' },
  },
  patternProperties: {
    '^param_[A-Za-z_][A-Za-z0-9_]{0,63}$': { type: 'string', maxLength: 100_000 },
    '^(?!param_|query$|default_format$)[a-z][a-z0-9_]{0,63}$': { type: 'string', maxLength: 1_000 },
  },
} as const;

export type ClickHouseQuery = FromSchema<typeof clickhouseQuery>;
