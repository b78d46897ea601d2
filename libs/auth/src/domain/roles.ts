import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';

/** Every role a token can hold; admin may do everything. */
export const ROLES = ['admin', 'producer', 'data-steward', 'trainer', 'promoter', 'reader', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** What a route asks of its caller: nothing, any valid token, or one of some roles. */
export type Requirement =
  | { readonly kind: 'public' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'roles'; readonly roles: readonly Role[] };

/** A token passes when it has admin or one of the roles needed; a route that names none needs any role at all. */
export function authorize(granted: readonly Role[], requirement: Requirement): Result<void, DomainError<'forbidden'>> {
  if (requirement.kind === 'public') return ok(undefined);
  if (requirement.kind === 'authenticated') {
    return granted.length > 0 ? ok(undefined) : err(domainError('forbidden', 'needs a role; the token has roles []'));
  }
  if (granted.includes('admin') || requirement.roles.some((role) => granted.includes(role))) return ok(undefined);
  const needed =
    requirement.roles.length === 1
      ? `role ${requirement.roles[0]}`
      : `one of the roles ${requirement.roles.join(', ')}`;
  return err(domainError('forbidden', `needs ${needed}; the token has roles [${granted.join(', ')}]`));
}
