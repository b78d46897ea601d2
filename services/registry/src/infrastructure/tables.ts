import { type Tables, tablesIn } from '@mlops/storage';

const NAMES = [
  'models',
  'model_versions',
  'aliases',
  'alias_history',
  'promotion_requests',
  'deployments',
  'model_audit',
] as const;

export type RegistryTables = Tables<(typeof NAMES)[number]>;

export function registryTables(schema: string): RegistryTables {
  return tablesIn(schema, NAMES);
}
