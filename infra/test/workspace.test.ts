// The workspace as Nx and tsc see it: every project has build, lint and test targets, its package.json
// dependencies match its tsconfig references (Nx orders builds by the first, `tsc -b` by the second, so a
// mismatch lets two builds write one dist/ at once), and a change to one service affects only that service
// and the projects above it (bench, infra).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

interface Manifest {
  name: string;
  workspaces?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
interface Project {
  dir: string;
  manifest: Manifest;
  references: string[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The folders the root package.json's workspaces name (`libs/*` expands to its subfolders). */
function workspaceDirs(): string[] {
  const patterns = readJson<Manifest>(path.join(root, 'package.json')).workspaces ?? [];
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(path.join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(path.join(root, parent, entry.name, 'package.json')))
      .map((entry) => `${parent}/${entry.name}`);
  });
}

const projects: Project[] = workspaceDirs().map((dir) => {
  const tsconfig = readJson<{ references?: { path: string }[] }>(path.join(root, dir, 'tsconfig.json'));
  return {
    dir,
    manifest: readJson<Manifest>(path.join(root, dir, 'package.json')),
    references: (tsconfig.references ?? []).map((r) => path.relative(root, path.resolve(root, dir, r.path))),
  };
});
const byName = new Map(projects.map((p) => [p.manifest.name, p]));
const byDir = new Map(projects.map((p) => [p.dir, p]));

const workspaceDependencies = (project: Project): string[] =>
  Object.keys({ ...project.manifest.dependencies, ...project.manifest.devDependencies })
    .filter((name) => byName.has(name))
    .sort();

describe('workspace projects', () => {
  test('are found: libs, services, infra and bench', () => {
    const dirs = projects.map((p) => p.dir);
    for (const expected of ['libs/contracts', 'services/ingestion', 'services/feature-store', 'infra', 'bench']) {
      assert.ok(dirs.includes(expected), `${expected} is a workspace project`);
    }
  });

  for (const project of projects) {
    test(`${project.dir} has build, lint and test scripts (its Nx targets)`, () => {
      for (const target of ['build', 'lint', 'test']) {
        assert.ok(project.manifest.scripts?.[target], `${project.dir}/package.json has a "${target}" script`);
      }
    });

    test(`${project.dir}: package.json workspace dependencies are its tsconfig references`, () => {
      const referenced = project.references
        .map((dir) => {
          const target = byDir.get(dir);
          assert.ok(target, `${project.dir}/tsconfig.json references ${dir}, which is not a workspace project`);
          return target.manifest.name;
        })
        .sort();
      assert.deepEqual(
        workspaceDependencies(project),
        referenced,
        `${project.dir}: package.json (what Nx builds first) and tsconfig.json references (what tsc -b builds) differ`,
      );
    });
  }

  test('the root tsconfig.json references every project, so `tsc -b tsconfig.json` builds them all', () => {
    const rootRefs = readJson<{ references: { path: string }[] }>(path.join(root, 'tsconfig.json')).references.map(
      (r) => path.normalize(r.path),
    );
    assert.deepEqual([...rootRefs].sort(), projects.map((p) => p.dir).sort());
  });
});

describe('nx affected', () => {
  /** The projects Nx says a change to `file` affects. */
  function affectedBy(file: string): string[] {
    const result = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/nx/bin/nx.js'), 'show', 'projects', '--affected', `--files=${file}`, '--json'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
        timeout: 60_000,
      },
    );
    assert.equal(result.status, 0, `nx show projects failed:\n${result.stderr}`);
    return (JSON.parse(result.stdout) as string[]).sort();
  }

  const services = projects.filter((p) => p.dir.startsWith('services/')).map((p) => p.manifest.name);
  const above = ['@mlops/bench', '@mlops/infra'];

  for (const [service, file] of [
    ['@mlops/ingestion', 'services/ingestion/src/main.ts'],
    ['@mlops/trainer', 'services/trainer/src/config.ts'],
  ] as const) {
    test(`a change in ${file} affects ${service} and at most bench and infra`, () => {
      const affected = affectedBy(file);
      assert.ok(affected.includes(service), `${service} is affected: ${affected.join(', ')}`);
      const others = affected.filter((name) => name !== service && !above.includes(name));
      assert.deepEqual(others, [], `no other project is affected (services: ${services.join(', ')})`);
    });
  }

  test('a change in a lib affects the services that use it', () => {
    const affected = affectedBy('libs/artifacts/src/index.ts');
    assert.ok(affected.includes('@mlops/artifacts'));
    assert.ok(affected.includes('@mlops/feature-store'), `feature-store uses artifacts: ${affected.join(', ')}`);
    assert.ok(!affected.includes('@mlops/ingestion'), 'ingestion does not use artifacts');
  });
});
