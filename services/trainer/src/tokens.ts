/** Names and DI tokens of the trainer service. */
export const SERVICE = 'trainer';
export const PG_SCHEMA = 'trainer';
/** CloudEvents source of every event this service produces. */
export const SOURCE = 'urn:mlops:trainer';

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
export const TRAINER_CONFIG = Symbol('TRAINER_CONFIG');
