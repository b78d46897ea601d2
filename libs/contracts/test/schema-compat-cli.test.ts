// End to end: scripts/check-schema-compat.mjs against a scratch git repository holding a copy of schemas/.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EVENT_TYPES } from '../src';
import { findRepoRoot } from './support';

const root = findRepoRoot();
const script = join(root, 'scripts', 'check-schema-compat.mjs');
const scratchParent = mkdtempSync(join(tmpdir(), 'schema-compat-'));
after(() => rmSync(scratchParent, { recursive: true, force: true }));

// Keep git from wandering above the scratch directory or reading the user's configuration.
const gitEnv = {
  ...process.env,
  GIT_CEILING_DIRECTORIES: scratchParent,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

let counter = 0;
function scratchDir(): string {
  const dir = join(scratchParent, `repo-${++counter}`);
  mkdirSync(dir);
  return dir;
}

function git(cwd: string, ...args: string[]): string {
  const run = spawnSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' });
  assert.equal(run.status, 0, `git ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/** A git repository whose first commit holds a copy of the real schemas/. */
function repoWithSchemas(): string {
  const dir = scratchDir();
  cpSync(join(root, 'schemas'), join(dir, 'schemas'), { recursive: true });
  git(dir, 'init', '--quiet');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '--no-gpg-sign', '-m', 'schemas v1');
  return dir;
}

function editSchema(dir: string, type: string, edit: (schema: Record<string, any>) => void): void {
  const file = join(dir, 'schemas', `${type}.json`);
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  edit(schema);
  writeFileSync(file, JSON.stringify(schema, null, 2) + '\n');
}

function check(dir: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [script, '--root', dir, ...args], {
    cwd: dir,
    env: gitEnv,
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('check-schema-compat CLI', () => {
  it('passes when nothing changed since HEAD', () => {
    const run = check(repoWithSchemas());
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`${EVENT_TYPES.length} schema\\(s\\) compared, all compatible`));
  });

  it('fails on planted breaks, naming every schema, rule and JSON path', () => {
    const dir = repoWithSchemas();
    editSchema(dir, 'mlops.model.promoted.v1', (s) => {
      s.properties.trigger.enum = ['gate', 'manual'];
    });
    editSchema(dir, 'mlops.data.record.v1', (s) => {
      s.properties.source = { type: 'string', description: 'Upstream system.' };
      s.required.push('source');
      s.properties.entityId.maxLength = 64;
    });
    const run = check(dir);
    assert.equal(run.status, 1, run.stdout);
    assert.match(run.stderr, /3 incompatible change\(s\) in 2 schema\(s\)/);
    assert.match(
      run.stderr,
      /schemas\/mlops\.model\.promoted\.v1\.json\n\s+- \[enum-narrowed\] #\/properties\/trigger \(data \$\.trigger\): enum value\(s\) \["rollback"\] removed/,
    );
    assert.match(run.stderr, /schemas\/mlops\.data\.record\.v1\.json\n/);
    assert.match(run.stderr, /\[required-added\] #\/properties\/source \(data \$\.source\)/);
    assert.match(
      run.stderr,
      /\[maxLength-tightened\] #\/properties\/entityId \(data \$\.entityId\): maxLength tightened from 256 to 64/,
    );
    assert.match(run.stderr, /needs a new major version/);
  });

  it('accepts compatible changes and a new major version as a new file', () => {
    const dir = repoWithSchemas();
    editSchema(dir, 'mlops.model.promoted.v1', (s) => {
      s.properties.trigger.enum.push('schedule');
      s.properties.canaryShare = { type: 'number', minimum: 0, maximum: 1, description: 'Traffic share for canaries.' };
    });
    cpSync(join(dir, 'schemas', 'mlops.model.degraded.v1.json'), join(dir, 'schemas', 'mlops.model.degraded.v2.json'));
    const run = check(dir);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /all compatible; new: mlops\.model\.degraded\.v2\.json/);
  });

  it('fails when a published schema is deleted', () => {
    const dir = repoWithSchemas();
    rmSync(join(dir, 'schemas', 'mlops.drift.detected.v1.json'));
    const run = check(dir);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /schemas\/mlops\.drift\.detected\.v1\.json\n\s+- \[schema-deleted\]/);
  });

  it('compares with --base instead of HEAD, so committed breaks are caught too', () => {
    const dir = repoWithSchemas();
    editSchema(dir, 'mlops.training.failed.v1', (s) => {
      s.properties.attempt.type = 'string';
    });
    git(dir, 'commit', '--quiet', '--no-gpg-sign', '-am', 'break it');
    assert.equal(check(dir).status, 0, 'HEAD already has the break');
    const run = check(dir, '--base', 'HEAD~1');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /\[type-narrowed\] #\/properties\/attempt/);
    assert.match(check(dir, '--base=HEAD~1').stderr, /type-narrowed/);
  });

  it('with --mode full also flags changes that break old readers', () => {
    const dir = repoWithSchemas();
    editSchema(dir, 'mlops.drift.detected.v1', (s) => {
      s.properties.metric.enum.push('hellinger');
    });
    assert.equal(check(dir).status, 0);
    const run = check(dir, '--mode', 'full');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /\[enum-widened\] #\/properties\/metric/);
  });

  it('says so and passes without history to compare with', () => {
    const fresh = scratchDir();
    cpSync(join(root, 'schemas'), join(fresh, 'schemas'), { recursive: true });
    git(fresh, 'init', '--quiet');
    const noHead = check(fresh);
    assert.equal(noHead.status, 0, noHead.stderr);
    assert.match(noHead.stdout, /no commits yet/);

    const plain = scratchDir();
    cpSync(join(root, 'schemas'), join(plain, 'schemas'), { recursive: true });
    const noRepo = check(plain);
    assert.equal(noRepo.status, 0, noRepo.stderr);
    assert.match(noRepo.stdout, /not inside a git repository/);
  });

  it('rejects bad arguments with exit code 2', () => {
    const dir = repoWithSchemas();
    assert.equal(check(dir, '--base', 'no-such-ref').status, 2);
    assert.equal(check(dir, '--mode', 'sideways').status, 2);
    assert.equal(check(dir, '--frobnicate').status, 2);
  });

  it('works on a schemas/ directory below the top of the repository', () => {
    const top = scratchDir();
    const nested = join(top, 'platform');
    mkdirSync(dirname(join(nested, 'schemas', 'x')), { recursive: true });
    cpSync(join(root, 'schemas'), join(nested, 'schemas'), { recursive: true });
    git(top, 'init', '--quiet');
    git(top, 'add', '-A');
    git(top, 'commit', '--quiet', '--no-gpg-sign', '-m', 'nested');
    editSchema(nested, 'mlops.model.trained.v1', (s) => {
      delete s.properties.durationMs;
      s.required = s.required.filter((name: string) => name !== 'durationMs');
    });
    const run = check(nested);
    assert.equal(run.status, 1, run.stdout);
    assert.match(run.stderr, /\[property-removed\] #\/properties\/durationMs/);
  });
});
