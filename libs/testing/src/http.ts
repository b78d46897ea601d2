/**
 * The bearer token the services under test accept as admin (their `AUTH_ADMIN_TOKEN`), and requests that carry
 * it: tests call the HTTP APIs the way a user with a token does.
 */
export const TEST_ADMIN_TOKEN = 'mlops-test-admin-token-0123456789abcdef0123456789';

/** `init` with `Authorization: Bearer <token>` added (the test admin token unless another is given). */
export function authorized(init: RequestInit = {}, token: string = TEST_ADMIN_TOKEN): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}
