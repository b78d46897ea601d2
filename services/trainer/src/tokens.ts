/** Names of the trainer service. */
export const SERVICE = 'trainer';
export const PG_SCHEMA = 'trainer';
