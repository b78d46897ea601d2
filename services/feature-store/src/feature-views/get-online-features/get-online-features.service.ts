import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type FeatureVector, type FeatureView, featuresAsOf, isFresh } from '../../domain';
import type { CatalogStore } from '../../infrastructure/catalog-store';
import type { OnlineStore } from '../../infrastructure/online-store';

export interface OnlineFeaturesQuery {
  readonly view: string;
  readonly entityId: string;
  /** Default: the view's serving version. */
  readonly version?: number;
  /** Slide the windows to this time (ms); not before the entity's newest record. */
  readonly asOfMs?: number;
}

export interface OnlineFeatures {
  readonly featureView: { readonly name: string; readonly version: number };
  readonly entityId: string;
  /** In declaration order. */
  readonly features: FeatureVector;
  readonly eventTime: string;
  readonly fresh: boolean;
  readonly ttlSeconds: number;
  readonly materializedAt: string;
  readonly sourceEventId: string;
  readonly asOf?: string;
}

export type OnlineFeaturesError = DomainError<'view_not_found' | 'entity_not_found' | 'as_of_before_newest_record'>;

/**
 * The entity's latest vector. With asOfMs the windows slide to that time: row-level features of the newest
 * record, aggregates as of asOfMs (past vectors come from snapshots, so not before the newest record).
 */
export async function getOnlineFeatures(
  catalog: CatalogStore,
  online: OnlineStore,
  query: OnlineFeaturesQuery,
  nowMs: number,
): Promise<Result<OnlineFeatures, OnlineFeaturesError>> {
  const { entityId, version } = query;
  const view = await catalog.view(query.view, version);
  if (!view)
    return err(
      domainError(
        'view_not_found',
        `feature view "${query.view}"${version === undefined ? '' : ` version ${version}`} does not exist`,
      ),
    );
  const vector = await online.vector(view.name, view.version, entityId);
  if (!vector)
    return err(domainError('entity_not_found', `no features for entity "${entityId}" in ${view.name}@${view.version}`));
  const answer: OnlineFeatures = {
    featureView: { name: view.name, version: view.version },
    entityId,
    features: inDeclarationOrder(view, vector.features),
    eventTime: vector.eventTime.toISOString(),
    fresh: isFresh(view, vector.eventTime.getTime(), nowMs),
    ttlSeconds: view.ttlMs / 1000,
    materializedAt: vector.updatedAt.toISOString(),
    sourceEventId: vector.sourceEventId,
  };
  if (query.asOfMs === undefined) return ok(answer);
  const eventTimeMs = vector.eventTime.getTime();
  if (query.asOfMs < eventTimeMs) {
    return err(
      domainError(
        'as_of_before_newest_record',
        `asOf is before the entity's newest record (${vector.eventTime.toISOString()}); past vectors come from snapshots`,
      ),
    );
  }
  const state = await online.state(view.name, view.version, entityId);
  const slid = state ? featuresAsOf(view, state, query.asOfMs) : null;
  if (!slid)
    return err(
      domainError('entity_not_found', `no aggregation state for entity "${entityId}" in ${view.name}@${view.version}`),
    );
  return ok({ ...answer, asOf: new Date(query.asOfMs).toISOString(), features: slid });
}

// jsonb keeps keys in its own order.
function inDeclarationOrder(view: FeatureView, features: FeatureVector): FeatureVector {
  return Object.fromEntries(view.outputNames.map((name) => [name, features[name] ?? null]));
}
