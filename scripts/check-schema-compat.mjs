#!/usr/bin/env node
// Fails when a schema in schemas/ changed incompatibly within its major version, compared with git.
//   node scripts/check-schema-compat.mjs [--base <git ref>] [--mode backward|forward|full] [--root <repo dir>]
// --base defaults to HEAD (the last commit: checks the working tree's uncommitted changes); in CI pass the
// merge base of the branch. Outside a git repository, or before the first commit, there is nothing to
// compare with: the check says so and passes. Exit codes: 0 compatible, 1 violations, 2 usage error.
// Rules and rationale: libs/contracts/src/schema-compat.ts and schemas/README.md. It runs the compiled lib:
// build first (`npx tsc -b tsconfig.json`; scripts/test.sh and `npm run check:schemas` do).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { COMPATIBILITY_MODES, compareSchemaSets } from '../libs/contracts/dist/src/schema-compat.js';
import { REPO_ROOT, SCHEMAS_DIR_NAME, listSchemaFiles } from './lib/schema-files.mjs';

const USAGE = 'usage: check-schema-compat.mjs [--base <git ref>] [--mode backward|forward|full] [--root <repo dir>]';

function parseArgs(argv) {
  const options = { base: undefined, mode: 'backward', root: REPO_ROOT };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--base') options.base = value();
    else if (flag === '--mode') options.mode = value();
    else if (flag === '--root') options.root = resolve(value());
    else if (flag === '--help' || flag === '-h') options.help = true;
    else throw new UsageError(`unknown argument "${arg}"`);
  }
  if (!COMPATIBILITY_MODES.includes(options.mode))
    throw new UsageError(`--mode must be one of ${COMPATIBILITY_MODES.join(', ')}`);
  return options;
}

class UsageError extends Error {}

function git(root, args) {
  return execFileSync('git', ['-C', root, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

function tryGit(root, args) {
  try {
    return git(root, args);
  } catch {
    return undefined;
  }
}

function parseJson(text, where, problems) {
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.push(`${where}: not valid JSON (${error.message})`);
    return undefined;
  }
}

function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`check-schema-compat: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { root, mode } = options;
  const schemasDir = join(root, SCHEMAS_DIR_NAME);
  const problems = [];

  const current = new Map();
  if (existsSync(schemasDir)) {
    for (const file of listSchemaFiles(schemasDir)) {
      const schema = parseJson(readFileSync(join(schemasDir, file), 'utf8'), `${SCHEMAS_DIR_NAME}/${file}`, problems);
      if (schema !== undefined) current.set(file, schema);
    }
  }

  if (tryGit(root, ['rev-parse', '--is-inside-work-tree'])?.trim() !== 'true') {
    console.log(`check-schema-compat: ${root} is not inside a git repository; nothing to compare with, passing.`);
    return reportProblems(problems);
  }
  const baseRef = options.base ?? 'HEAD';
  const baseCommit = tryGit(root, ['rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`])?.trim();
  if (!baseCommit) {
    if (options.base !== undefined) {
      console.error(`check-schema-compat: --base ${options.base} is not a commit in this repository.`);
      return 2;
    }
    console.log('check-schema-compat: the repository has no commits yet (no HEAD); nothing to compare with, passing.');
    return reportProblems(problems);
  }

  const previous = new Map();
  const listing = git(root, ['ls-tree', '--name-only', baseCommit, '--', `${SCHEMAS_DIR_NAME}/`]);
  for (const path of listing.split('\n').filter((line) => line.endsWith('.json'))) {
    const file = path.slice(path.lastIndexOf('/') + 1);
    const schema = parseJson(
      git(root, ['show', `${baseCommit}:./${SCHEMAS_DIR_NAME}/${file}`]),
      `${baseRef}:${SCHEMAS_DIR_NAME}/${file}`,
      [],
    );
    if (schema !== undefined) previous.set(file, schema); // an unparsable old version constrains nothing
  }

  const results = compareSchemaSets(previous, current, { mode });
  const added = [...current.keys()].filter((file) => !previous.has(file));
  const header = `check-schema-compat (mode ${mode}, base ${baseRef} ${baseCommit.slice(0, 12)})`;
  if (results.length === 0) {
    console.log(
      `${header}: ${previous.size} schema(s) compared, all compatible${added.length > 0 ? `; new: ${added.join(', ')}` : ''}.`,
    );
    return reportProblems(problems);
  }
  const count = results.reduce((sum, { violations }) => sum + violations.length, 0);
  const lines = [`${header}: ${count} incompatible change(s) in ${results.length} schema(s):`];
  for (const { file, violations } of results) {
    lines.push(`  ${SCHEMAS_DIR_NAME}/${file}`);
    for (const v of violations) lines.push(`    - [${v.rule}] ${v.path} (data ${v.dataPath}): ${v.message}`);
  }
  lines.push(
    'An incompatible change needs a new major version: add schemas/<domain.event>.v<N+1>.json as a new event type,',
    'produce both types while consumers migrate, then retire the old one (schemas/README.md).',
  );
  console.error(lines.join('\n'));
  reportProblems(problems);
  return 1;
}

function reportProblems(problems) {
  if (problems.length === 0) return 0;
  console.error(`check-schema-compat: ${problems.map((p) => `\n  - ${p}`).join('')}`);
  return 1;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`check-schema-compat: ${error.stack ?? error}`);
  process.exitCode = 2;
}
