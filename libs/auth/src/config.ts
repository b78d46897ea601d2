import { readFileSync } from 'node:fs';
import { type ConfigKey, ConfigError, bool, str } from '@mlops/config';
import { MIN_ADMIN_TOKEN_LENGTH, sha256Hex } from './domain/token';

function adminToken(description: string): ConfigKey<string> {
  const base = str({ description, optional: true, secret: true });
  return {
    ...base,
    parse: (raw) => {
      const value = base.parse(raw);
      if (value.length < MIN_ADMIN_TOKEN_LENGTH)
        throw new Error(`must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters, got ${value.length}`);
      return value;
    },
  };
}

/** The keys of every service whose HTTP API takes bearer tokens (spread into its config spec). */
export const authKeys = {
  AUTH_ADMIN_TOKEN: adminToken(
    `Admin bearer token accepted on every start (at least ${MIN_ADMIN_TOKEN_LENGTH} characters); listed as bootstrap-admin. ` +
      'One of AUTH_ADMIN_TOKEN or AUTH_ADMIN_TOKEN_FILE is required unless AUTH_DISABLED=true',
  ),
  AUTH_ADMIN_TOKEN_FILE: str({
    description:
      'File holding the admin bearer token (surrounding whitespace ignored); an alternative to AUTH_ADMIN_TOKEN for secret mounts',
    optional: true,
    example: '/run/secrets/mlops-admin-token',
  }),
  AUTH_DISABLED: bool({
    description:
      'true turns authentication off entirely (every request acts as admin): local experiments only, logged as a warning at start',
    default: false,
  }),
  AUTH_METRICS_PUBLIC: bool({
    description: 'true serves GET /metrics without a token; false asks for any valid token',
    default: true,
  }),
};

/** The auth keys of a service's loaded config. */
export interface AuthConfig {
  readonly AUTH_ADMIN_TOKEN?: string | undefined;
  readonly AUTH_ADMIN_TOKEN_FILE?: string | undefined;
  readonly AUTH_DISABLED: boolean;
  readonly AUTH_METRICS_PUBLIC: boolean;
}

/** What the guard needs from the config: the admin token only as its hash. */
export interface AuthSettings {
  readonly disabled: boolean;
  readonly metricsPublic: boolean;
  /** SHA-256 of the bootstrap admin token; absent only when auth is disabled. */
  readonly adminTokenHash?: string;
}

/** Checks what the keys cannot check one by one; throws a ConfigError (exit 78 at start) naming each problem. */
export function authSettingsOf(
  service: string,
  config: AuthConfig,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): AuthSettings {
  const base = { disabled: config.AUTH_DISABLED, metricsPublic: config.AUTH_METRICS_PUBLIC };
  const problems: string[] = [];
  let token = config.AUTH_ADMIN_TOKEN;
  if (token !== undefined && config.AUTH_ADMIN_TOKEN_FILE !== undefined) {
    // libs/config reads any secret <KEY>_FILE into <KEY>: the same token twice is one token, two different ones a mistake.
    let fromFile: string | undefined;
    try {
      fromFile = readFile(config.AUTH_ADMIN_TOKEN_FILE).trim();
    } catch {
      fromFile = undefined;
    }
    if (fromFile !== token.trim()) problems.push('AUTH_ADMIN_TOKEN and AUTH_ADMIN_TOKEN_FILE are both set: give one');
  }
  if (token === undefined && config.AUTH_ADMIN_TOKEN_FILE !== undefined) {
    try {
      token = readFile(config.AUTH_ADMIN_TOKEN_FILE).trim();
    } catch (error) {
      problems.push(`AUTH_ADMIN_TOKEN_FILE cannot be read: ${(error as Error).message}`);
    }
    if (token !== undefined && token.length < MIN_ADMIN_TOKEN_LENGTH) {
      problems.push(
        `AUTH_ADMIN_TOKEN_FILE must hold at least ${MIN_ADMIN_TOKEN_LENGTH} characters, it holds ${token.length}`,
      );
    }
  }
  if (token === undefined && problems.length === 0 && !config.AUTH_DISABLED) {
    problems.push(
      'AUTH_ADMIN_TOKEN or AUTH_ADMIN_TOKEN_FILE is required (or AUTH_DISABLED=true for a local experiment)',
    );
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
  return token === undefined ? base : { ...base, adminTokenHash: sha256Hex(token) };
}

/** Like loadConfigOrExit: prints the problems and exits 78 (EX_CONFIG) instead of throwing. */
export function authSettingsOrExit(service: string, config: AuthConfig): AuthSettings {
  try {
    return authSettingsOf(service, config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
