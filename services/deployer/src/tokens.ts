/** Names of the deployer service. */
export const SERVICE = 'deployer';
export const PG_SCHEMA = 'deployer';
export const SOURCE = 'urn:mlops:deployer';

export const DEPLOYER_CONFIG = Symbol('DEPLOYER_CONFIG');
export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
/** The id of this replica (deployment events, replay groups). */
export const INSTANCE_ID = Symbol('INSTANCE_ID');
/** The in-memory online features (domain OnlineFeatures). */
export const ONLINE_FEATURES = Symbol('ONLINE_FEATURES');
