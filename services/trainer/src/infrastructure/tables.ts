import { type Tables, tablesIn } from '@mlops/storage';

export type TrainerTables = Tables<'training_runs'>;

export function trainerTables(schema: string): TrainerTables {
  return tablesIn(schema, ['training_runs']);
}
