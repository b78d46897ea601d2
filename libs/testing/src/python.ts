// A cached virtualenv for tests that drive a service with a Python client (the mlflow client, a Parquet reader):
// created once under ~/.cache/mlops/venv-<purpose>, reused while it imports the pinned packages.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The python of a virtualenv with `requirements` installed; `probe` is a Python expression true when it is ready. */
export async function cachedVenv(purpose: string, requirements: readonly string[], probe: string): Promise<string> {
  const dir =
    process.env[`MLOPS_VENV_${purpose.toUpperCase().replace(/\W/g, '_')}`] ??
    join(homedir(), '.cache', 'mlops', `venv-${purpose}`);
  const python = join(dir, 'bin', 'python');
  const ready = async (): Promise<boolean> =>
    existsSync(python) &&
    (await run(python, ['-c', `import sys; sys.exit(0 if (${probe}) else 1)`], { timeout: 60_000 }).then(
      () => true,
      () => false,
    ));
  if (await ready()) return python;
  await mkdir(dir, { recursive: true });
  if (!existsSync(python)) await run('python3', ['-m', 'venv', dir], { timeout: 120_000 });
  await run(python, ['-m', 'pip', 'install', '--quiet', ...requirements], { timeout: 600_000 });
  if (!(await ready())) throw new Error(`the virtualenv ${dir} does not pass its probe after pip install`);
  return python;
}
