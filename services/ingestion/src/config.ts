import { type ConfigOf, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the ingestion service reads; validated at start. */
export const IngestionConfigSpec = {
  ...serviceKeys(3001),
  ...postgresKeys,

};

export type IngestionConfig = ConfigOf<typeof IngestionConfigSpec>;
