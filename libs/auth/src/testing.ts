import type { Role } from './domain/roles';

/**
 * Creates a token through the admin API, the way a person would (tests and the demo):
 * returns the bearer token, shown this once.
 */
export async function createTokenWithRoles(
  baseUrl: string,
  adminToken: string,
  roles: Role | readonly Role[],
  name?: string,
): Promise<string> {
  const list = typeof roles === 'string' ? [roles] : [...roles];
  const response = await fetch(`${baseUrl.replace(/\/$/, '')}/auth/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: name ?? `${list.join('-')}-${Date.now().toString(36)}`, roles: list }),
  });
  if (response.status !== 201)
    throw new Error(`POST /auth/tokens answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
