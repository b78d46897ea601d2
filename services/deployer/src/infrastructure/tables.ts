import { tablesIn } from '@mlops/storage';

/** The deployer's Postgres tables as SQL names ("schema"."table"); their columns are declared by migrations.ts only. */
export const deployerPgTables = (schema: string) => tablesIn(schema, ['batch_score_jobs']);

export type DeployerPgTables = ReturnType<typeof deployerPgTables>;
