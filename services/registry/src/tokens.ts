/** Names of the registry service. */
export const SERVICE = 'registry';
export const PG_SCHEMA = 'registry';
