/** Names and DI tokens of the registry service. */
export const SERVICE = 'registry';
export const PG_SCHEMA = 'registry';
/** CloudEvents source of every event this service produces. */
export const SOURCE = 'urn:mlops:registry';
/** Who moves an alias when the gate, not a person, decides. */
export const GATE_ACTOR = 'registry-gate';
/** Who rolls an alias back when the monitor reports a degraded version. */
export const ROLLBACK_ACTOR = 'registry-rollback-policy';

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
export const REGISTRY_CONFIG = Symbol('REGISTRY_CONFIG');
