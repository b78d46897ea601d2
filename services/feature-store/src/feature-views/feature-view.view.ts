import type { StoredFeatureView } from '../infrastructure/catalog-store';

/** The JSON of one feature view version in HTTP answers. */
export function featureViewVersionView(view: StoredFeatureView) {
  return {
    name: view.name,
    version: view.version,
    dataset: view.dataset,
    datasetVersion: view.datasetVersion,
    definition: view.definition,
    createdAt: view.createdAt.toISOString(),
    // 'backfilling' until its history is replayed from the offline store, then 'ready' (materialized and served).
    status: view.status,
    ...(view.backfill ? { backfill: view.backfill } : {}),
  };
}
