import { tablesIn } from '@mlops/storage';

/** The monitor's Postgres tables as SQL names ("schema"."table"); their columns are declared by migrations.ts only. */
export const monitorPgTables = (schema: string) =>
  tablesIn(schema, ['model_versions', 'model_lineage', 'policies', 'training_state', 'evaluated_windows']);

export type MonitorPgTables = ReturnType<typeof monitorPgTables>;
