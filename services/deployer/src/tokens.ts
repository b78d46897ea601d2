/** Names of the deployer service. */
export const SERVICE = 'deployer';
export const PG_SCHEMA = 'deployer';
