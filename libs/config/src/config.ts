import { readFileSync } from 'node:fs';

/**
 * Typed, documented configuration read from the environment and validated once at start.
 * Every key carries its description; secrets never have defaults; a bad or missing key is reported by name.
 */

export interface ConfigKey<T> {
  readonly description: string;
  readonly default?: T;
  readonly optional?: boolean;
  readonly secret?: boolean;
  readonly example?: string;
  readonly kind: string;
  parse(raw: string): T;
}

interface KeyOptions<T> {
  description: string;
  default?: T;
  optional?: boolean;
  secret?: boolean;
  example?: string;
}

function key<T>(kind: string, options: KeyOptions<T>, parse: (raw: string) => T): ConfigKey<T> {
  if (options.secret && options.default !== undefined) {
    throw new Error(`a secret config key cannot have a default (${options.description})`);
  }
  return { ...options, kind, parse };
}

export const str = (o: KeyOptions<string>): ConfigKey<string> =>
  key('string', o, (raw) => {
    if (raw.trim() === '') throw new Error('must not be empty');
    return raw;
  });

export const int = (o: KeyOptions<number> & { min?: number; max?: number }): ConfigKey<number> =>
  key('integer', o, (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (o.min !== undefined && value < o.min) throw new Error(`must be >= ${o.min}, got ${value}`);
    if (o.max !== undefined && value > o.max) throw new Error(`must be <= ${o.max}, got ${value}`);
    return value;
  });

export const port = (o: KeyOptions<number>): ConfigKey<number> => ({
  ...int({ ...o, min: 0, max: 65535 }),
  kind: 'port',
});

export const bool = (o: KeyOptions<boolean>): ConfigKey<boolean> =>
  key('boolean', o, (raw) => {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new Error(`must be true or false, got "${raw}"`);
  });

export const url = (o: KeyOptions<string> & { protocols?: string[] }): ConfigKey<string> =>
  key('url', o, (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`must be a URL, got "${redact(raw)}"`);
    }
    if (o.protocols && !o.protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new Error(`must use one of ${o.protocols.join(', ')}, got ${parsed.protocol}`);
    }
    return raw;
  });

export const list = (o: KeyOptions<string[]>): ConfigKey<string[]> =>
  key('comma-separated list', o, (raw) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) throw new Error('must list at least one item');
    return items;
  });

export const oneOf = <const V extends string>(values: readonly V[], o: KeyOptions<V>): ConfigKey<V> =>
  key(`one of ${values.join('|')}`, o, (raw) => {
    if (!(values as readonly string[]).includes(raw))
      throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as V;
  });

export type ConfigSpec = Record<string, ConfigKey<unknown>>;

type ValueOf<K> =
  K extends ConfigKey<infer T> ? (K['default'] extends T ? T : K['optional'] extends true ? T | undefined : T) : never;

export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: ValueOf<S[K]> };

export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration for ${service}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads every key of the spec from env; throws one ConfigError naming every missing or bad key. */
export function loadConfig<S extends ConfigSpec>(
  service: string,
  spec: S,
  env: Record<string, string | undefined> = process.env,
): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, k] of Object.entries(spec)) {
    let raw = env[name];
    // A secret may come from a file (`<KEY>_FILE`, e.g. a Docker/compose secret under /run/secrets).
    const file = k.secret ? env[`${name}_FILE`] : undefined;
    if ((raw === undefined || raw === '') && file) {
      try {
        raw = readFileSync(file, 'utf8').trim();
      } catch (error) {
        problems.push(
          `${name}_FILE=${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
        continue;
      }
    }
    if (raw === undefined || raw === '') {
      if (k.default !== undefined) out[name] = k.default;
      else if (k.optional) out[name] = undefined;
      else problems.push(`${name} is required: ${k.description}`);
      continue;
    }
    try {
      out[name] = k.parse(raw);
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
  return out as ConfigOf<S>;
}

/** A markdown table of every key: the reference the README links to. */
export function describeConfig(spec: ConfigSpec): string {
  const rows = Object.entries(spec).map(([name, k]) => {
    const def = k.secret
      ? `(secret, no default; or \`${name}_FILE\`)`
      : k.default !== undefined
        ? `\`${String(k.default)}\``
        : k.optional
          ? '(optional)'
          : '**required**';
    return `| \`${name}\` | ${k.kind} | ${def} | ${k.description} |`;
  });
  return ['| key | type | default | description |', '|---|---|---|---|', ...rows].join('\n');
}

/** Prints a ConfigError and exits non-zero; the common way a service refuses to start. */
export function loadConfigOrExit<S extends ConfigSpec>(service: string, spec: S, env = process.env): ConfigOf<S> {
  try {
    return loadConfig(service, spec, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

function redact(raw: string): string {
  return raw.replace(/\/\/([^@/]*)@/, '//***@');
}
