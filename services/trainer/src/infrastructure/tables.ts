import { type Tables, tablesIn } from '@mlops/storage';

const TABLES = [
  'training_runs',
  'experiments',
  'tracked_runs',
  'run_params',
  'run_metrics',
  'run_tags',
  'run_artifacts',
  'run_inputs',
  'champions',
] as const;

export type TrainerTables = Tables<(typeof TABLES)[number]>;

export function trainerTables(schema: string): TrainerTables {
  return tablesIn(schema, TABLES);
}
