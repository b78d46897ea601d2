import { authKeys } from '@mlops/auth';
import { type ConfigOf, clickhouseKeys, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the monitor service reads; validated at start. */
export const MonitorConfigSpec = {
  ...serviceKeys(3006),
  ...postgresKeys,
  ...authKeys,
  ...clickhouseKeys('monitor'),
};

export type MonitorConfig = ConfigOf<typeof MonitorConfigSpec>;
