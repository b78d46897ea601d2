import { authKeys } from '@mlops/auth';
import { type ConfigOf, clickhouseKeys, int, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the monitor service reads; validated at start. */
export const MonitorConfigSpec = {
  ...serviceKeys(3006),
  ...postgresKeys,
  ...authKeys,
  ...clickhouseKeys('monitor'),
  MONITOR_WINDOW_SECONDS: int({
    description: 'Default tumbling window of drift and live performance, in seconds; a model policy may override it',
    default: 3600,
    min: 1,
  }),
  MONITOR_EVALUATE_INTERVAL_MS: int({
    description: 'Pause between evaluation passes (drift, performance, training policies); 0 disables the loop',
    default: 10_000,
    min: 0,
  }),
  MONITOR_SINK_GROUP: int({
    description:
      'Most events of a partition written in one inbox transaction, so one ClickHouse insert per table: a part costs about the same whatever its rows',
    default: 2_000,
    min: 1,
  }),
  MONITOR_QUERY_MAX_ROWS: int({
    description: 'Analyst endpoint /clickhouse: most rows a query may read or return (max_result_rows)',
    default: 100_000,
    min: 1,
  }),
  MONITOR_QUERY_MAX_SECONDS: int({
    description: 'Analyst endpoint /clickhouse: longest a query may run (max_execution_time)',
    default: 30,
    min: 1,
  }),
};

export type MonitorConfig = ConfigOf<typeof MonitorConfigSpec>;
