import { tablesIn } from '@mlops/storage';

/** Ingestion's tables as SQL names ("schema"."table"); their columns are declared by migrations.ts only. */
export const ingestionTables = (schema: string) => tablesIn(schema, ['dataset_versions', 'accepted_records']);
