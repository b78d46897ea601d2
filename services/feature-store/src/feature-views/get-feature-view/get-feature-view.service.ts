import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { CatalogStore, StoredFeatureView } from '../../infrastructure/catalog-store';

export interface FeatureViewVersions {
  readonly name: string;
  readonly latestVersion: number;
  /** The version records are materialized into and entity lookups answer by default; null before one is ready. */
  readonly servingVersion: number | null;
  /** Oldest first. */
  readonly versions: readonly StoredFeatureView[];
}

/** Every version of a view with its backfill status. */
export async function getFeatureView(
  catalog: CatalogStore,
  name: string,
): Promise<Result<FeatureViewVersions, DomainError<'view_not_found'>>> {
  const versions = await catalog.versions(name);
  const latest = versions[versions.length - 1];
  if (!latest) return err(domainError('view_not_found', `feature view "${name}" does not exist`));
  const ready = versions.filter((v) => v.status === 'ready');
  return ok({
    name,
    latestVersion: latest.version,
    servingVersion: ready[ready.length - 1]?.version ?? null,
    versions,
  });
}
