import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { Role } from './roles';

/** Bearer tokens read `mlops_<id>_<secret>`: the id finds the row, only the secret's hash is stored. */
export const TOKEN_PREFIX = 'mlops_';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 12;
const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^mlops_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
/** The admin token from the config has no id of its own; rows and audit entries name it so. */
export const BOOTSTRAP_TOKEN_ID = 'bootstrap';
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';
/** Shortest admin token the config accepts. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

export interface ParsedToken {
  readonly id: string;
  readonly secret: string;
}

export interface NewToken extends ParsedToken {
  /** The bearer token, shown once at creation. */
  readonly token: string;
  readonly secretHash: string;
}

/** A fresh token: a 12-character id and 32 random bytes of secret (base64url). */
export function generateToken(): NewToken {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, secret, token: `${TOKEN_PREFIX}${id}_${secret}`, secretHash: sha256Hex(secret) };
}

/** SHA-256 is enough for 256-bit random secrets: nothing to brute-force, so no slow hash is needed. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hex hash. */
export function hashMatches(presented: string, expectedHex: string): boolean {
  const actual = Buffer.from(sha256Hex(presented), 'hex');
  const expected = Buffer.from(expectedHex, 'hex');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

export type TokenProblem = 'missing-token' | 'malformed-token' | 'unknown-token' | 'expired-token' | 'revoked-token';

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerOf(header: string | undefined): Result<string, DomainError<TokenProblem>> {
  if (header === undefined || header.trim() === '')
    return err(domainError('missing-token', 'no bearer token: send Authorization: Bearer <token>'));
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match) return err(domainError('malformed-token', 'the Authorization header is not "Bearer <token>"'));
  return ok(match[1]!);
}

export function parseToken(token: string): Result<ParsedToken, DomainError<'malformed-token'>> {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return err(domainError('malformed-token', 'the bearer token is not an mlops_<id>_<secret> token'));
  return ok({ id: match[1]!, secret: match[2]! });
}

/** A token as every service stores it. */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly secretHash: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly revision: number;
}

/** Who made a request: the token that was verified. */
export interface Principal {
  readonly tokenId: string;
  readonly name: string;
  readonly roles: readonly Role[];
}

/** Checks a presented secret against the stored token; the message says which check failed. */
export function verifyToken(
  record: TokenRecord | undefined,
  presented: ParsedToken,
  now: Date,
): Result<Principal, DomainError<TokenProblem>> {
  if (!record || !hashMatches(presented.secret, record.secretHash))
    return err(domainError('unknown-token', `unknown token ${presented.id}`));
  if (record.revokedAt !== null)
    return err(domainError('revoked-token', `token ${record.id} was revoked at ${record.revokedAt.toISOString()}`));
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) {
    return err(domainError('expired-token', `token ${record.id} expired at ${record.expiresAt.toISOString()}`));
  }
  return ok({ tokenId: record.id, name: record.name, roles: record.roles });
}
