import { tablesIn } from '@mlops/storage';

/** The feature store's tables as SQL names ("schema"."table"); their columns are declared by migrations.ts only. */
export const featureStoreTables = (schema: string) =>
  tablesIn(schema, [
    'datasets',
    'feature_views',
    'online_features',
    'aggregation_states',
    'snapshots',
    'deferred_snapshots',
    'feature_exports',
  ]);

export type FeatureStoreTables = ReturnType<typeof featureStoreTables>;
