import { ROLES } from '../domain/roles';
import type { IssueTokenRequest } from './token.service';

/** POST /auth/tokens: closed, so a misspelt key is a 400, not a silently ignored field. */
export const createTokenRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'roles'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[a-z][a-z0-9_.-]{0,62}$',
      description: 'What the token is for, e.g. "ingest-crm-nightly"',
    },
    roles: { type: 'array', minItems: 1, maxItems: ROLES.length, uniqueItems: true, items: { enum: [...ROLES] } },
    expiresAt: { type: 'string', format: 'date-time', description: 'When it stops working (RFC 3339); absent: never' },
  },
} as const;

export type CreateTokenRequest = IssueTokenRequest;
