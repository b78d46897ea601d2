/** The aliases whose versions share the production alias's traffic: a canary answers a share, a shadow scores all. */
export const PRODUCTION_ALIAS = 'production';
export const CANARY_ALIAS = 'canary';
export const SHADOW_ALIAS = 'shadow';

export type Strategy = 'hot_swap' | 'canary' | 'shadow';

export function strategyOf(alias: string): Strategy {
  return alias === CANARY_ALIAS ? 'canary' : alias === SHADOW_ALIAS ? 'shadow' : 'hot_swap';
}

/** A stable bucket 0..99 of an entity for a model (FNV-1a): the same entity always lands in the same arm. */
export function bucketOf(model: string, key: string): number {
  let hash = 0x811c9dc5;
  const text = `${model}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 100;
}

/** Whether a request keyed by `key` goes to the canary, which takes `percent` of the keys. */
export function goesToCanary(model: string, key: string, percent: number): boolean {
  return bucketOf(model, key) < percent;
}
