import type { FeatureVector } from './signature';

export interface FeatureViewRef {
  readonly name: string;
  readonly version: number;
}

interface Entry {
  readonly features: FeatureVector;
  readonly eventTime: number;
}

/**
 * The latest feature vector of every entity, per feature view version, in memory. A vector older (by event time)
 * than the one held is ignored, so a replayed or reordered update never moves an entity back in time.
 */
export class OnlineFeatures {
  private readonly views = new Map<string, Map<string, Entry>>();

  /** Keeps the vector if it is at least as new as the one held; says whether it did. */
  put(view: FeatureViewRef, entityId: string, features: FeatureVector, eventTime: string): boolean {
    const key = viewKey(view);
    let entities = this.views.get(key);
    if (!entities) {
      entities = new Map();
      this.views.set(key, entities);
    }
    const time = Date.parse(eventTime);
    const held = entities.get(entityId);
    if (held && held.eventTime > time) return false;
    entities.set(entityId, { features, eventTime: time });
    return true;
  }

  get(view: FeatureViewRef, entityId: string): FeatureVector | undefined {
    return this.views.get(viewKey(view))?.get(entityId)?.features;
  }

  /** Entities held per feature view ("name@version"). */
  sizes(): Record<string, number> {
    return Object.fromEntries([...this.views].map(([key, entities]) => [key, entities.size]));
  }
}

export function viewKey(view: FeatureViewRef): string {
  return `${view.name}@${view.version}`;
}
