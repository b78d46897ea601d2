// Shared by the tests: where the repository is, and the scripts' ESM modules loaded with a real dynamic import.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The monorepo root: the nearest ancestor with nx.json, or with a package.json declaring workspaces. */
export function findRepoRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object)) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root above ${start}`);
  }
}

export interface CompatViolation {
  path: string;
  dataPath: string;
  rule: string;
  direction: 'backward' | 'forward' | 'both';
  message: string;
}

export type CompatibilityMode = 'backward' | 'forward' | 'full';

/** The shape of scripts/lib/schema-compat.mjs. */
export interface SchemaCompatModule {
  compareSchemas(oldSchema: unknown, newSchema: unknown, options?: { mode?: CompatibilityMode }): CompatViolation[];
  compareSchemaSets(
    oldByFile: Map<string, unknown>,
    newByFile: Map<string, unknown>,
    options?: { mode?: CompatibilityMode },
  ): { file: string; violations: CompatViolation[] }[];
}

/** `import()` of an ESM script; TypeScript keeps `import()` as is under module Node16, so .mjs loads natively. */
export async function importScript<T>(pathFromRoot: string): Promise<T> {
  return (await import(pathToFileURL(join(findRepoRoot(), pathFromRoot)).href)) as T;
}

/** Runs `node <script> ...args` and captures everything. */
export function runNode(script: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [script, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}
