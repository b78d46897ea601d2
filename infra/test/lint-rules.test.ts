// The repository's lint config (eslint.config.mjs) on small in-memory files: each module boundary is reported
// where it is crossed and only there, so a config edit that silently disables a rule fails here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '../../..');
const eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'eslint.config.mjs') });

/** The messages of one rule for `code` linted as if it were the file at `file` (relative to the repository root). */
async function violations(file: string, code: string, ruleId = 'no-restricted-imports'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  assert.ok(result, `ESLint returned no result for ${file}`);
  const ignored = result.messages.find((m) => m.ruleId === null && /ignored/i.test(m.message));
  assert.equal(ignored, undefined, `${file} is ignored by the lint config`);
  return result.messages.filter((m) => m.ruleId === ruleId).map((m) => m.message);
}

const importing = (source: string) => `import * as imported from '${source}';\nexport const used = imported;\n`;

describe('lint: a service domain imports no framework', () => {
  const domainFile = 'services/ingestion/src/domain/lint-probe.ts';
  const frameworks = [
    '@nestjs/common',
    '@nestjs/core',
    'kafkajs',
    'typeorm',
    'typeorm/decorator/entity/Entity',
    'pg',
    '@clickhouse/client',
    '@mlops/messaging',
    '@mlops/storage',
    '@mlops/platform',
    '@mlops/http',
  ];
  for (const source of frameworks) {
    test(`reports ${source} in services/*/src/domain`, async () => {
      const messages = await violations(domainFile, importing(source));
      assert.equal(messages.length, 1, `expected one violation for ${source}, got ${JSON.stringify(messages)}`);
      assert.match(messages[0]!, /domain code imports no framework/);
    });
  }

  test('reports a framework import in a nested domain folder of any service', async () => {
    const messages = await violations(
      'services/feature-store/src/domain/rules/lint-probe.ts',
      importing('@nestjs/common'),
    );
    assert.equal(messages.length, 1);
  });

  test('reports a type-only framework import too', async () => {
    const code = "import type { Repository } from 'typeorm';\nexport type Repo = Repository<object>;\n";
    assert.equal((await violations(domainFile, code)).length, 1);
  });

  for (const source of ['@mlops/core', '@mlops/contracts', 'node:crypto', './dataset', '../domain/json']) {
    test(`allows ${source} in the domain`, async () => {
      assert.deepEqual(await violations(domainFile, importing(source)), []);
    });
  }

  test('allows framework imports outside the domain folder', async () => {
    const file = 'services/ingestion/src/records/ingest-records/lint-probe.ts';
    for (const source of ['@nestjs/common', 'kafkajs', 'typeorm', '@mlops/messaging', '@mlops/storage']) {
      assert.deepEqual(await violations(file, importing(source)), [], source);
    }
  });
});

describe('lint: a service never imports another service', () => {
  const cases: Array<[file: string, source: string]> = [
    ['services/ingestion/src/app.module.ts', '@mlops/feature-store'],
    ['services/ingestion/src/app.module.ts', '@mlops/feature-store/dist/src/domain'],
    ['services/feature-store/src/lint-probe.ts', '@mlops/ingestion'],
    ['services/trainer/src/lint-probe.ts', '@mlops/registry'],
    ['services/ingestion/src/records/lint-probe.ts', '../../../feature-store/src/domain/feature-view'],
    ['services/ingestion/test/lint-probe.test.ts', '../../feature-store/src/domain'],
    ['services/ingestion/src/lint-probe.ts', '../../../services/monitor/src/config'],
    // The domain list replaces the service list for domain files, so it must repeat it.
    ['services/ingestion/src/domain/lint-probe.ts', '@mlops/feature-store'],
  ];
  for (const [file, source] of cases) {
    test(`reports ${source} from ${file}`, async () => {
      const messages = await violations(file, importing(source));
      assert.equal(messages.length, 1, `expected one violation, got ${JSON.stringify(messages)}`);
      assert.match(messages[0]!, /never imports another service/);
    });
  }

  const allowed: Array<[file: string, source: string]> = [
    ['services/feature-store/src/lint-probe.ts', './feature-store.lifecycle'],
    ['services/feature-store/src/features/lint-probe.ts', '../feature-store.lifecycle'],
    ['services/ingestion/src/records/ingest-records/lint-probe.ts', '../../domain/records-body'],
    ['services/ingestion/test/lint-probe.test.ts', '../src/index'],
    ['services/ingestion/test/lint-probe.test.ts', '@mlops/ingestion'],
    ['services/ingestion/src/lint-probe.ts', '@mlops/contracts'],
    ['services/ingestion/src/lint-probe.ts', '@mlops/messaging'],
    // Benchmarks and deployment tests sit above the services and may load them.
    ['bench/ingest/lint-probe.ts', '@mlops/ingestion'],
    ['infra/test/lint-probe.test.ts', '@mlops/feature-store'],
  ];
  for (const [file, source] of allowed) {
    test(`allows ${source} from ${file}`, async () => {
      assert.deepEqual(await violations(file, importing(source)), []);
    });
  }
});

describe('lint: libs never import services', () => {
  test('reports a service package imported by a lib', async () => {
    const messages = await violations('libs/messaging/src/lint-probe.ts', importing('@mlops/ingestion'));
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /libs never import services/);
  });

  test('reports a relative path from a lib into services/', async () => {
    const messages = await violations(
      'libs/storage/src/lint-probe.ts',
      importing('../../../services/feature-store/src'),
    );
    assert.equal(messages.length, 1);
  });

  test('holds libs/core, which domain code imports, to the domain rule', async () => {
    const messages = await violations('libs/core/src/lint-probe.ts', importing('@nestjs/common'));
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /domain code imports no framework/);
    assert.equal((await violations('libs/core/src/lint-probe.ts', importing('@mlops/ingestion'))).length, 1);
  });

  test('allows libs importing libs', async () => {
    for (const source of ['@mlops/contracts', '@mlops/observability', '../../core/src']) {
      assert.deepEqual(await violations('libs/messaging/src/lint-probe.ts', importing(source)), [], source);
    }
  });
});

describe('lint: types', () => {
  const anyCode = 'export function parse(text: string): any {\n  return JSON.parse(text);\n}\n';

  test('reports an explicit any in src', async () => {
    const messages = await violations(
      'services/ingestion/src/lint-probe.ts',
      anyCode,
      '@typescript-eslint/no-explicit-any',
    );
    assert.equal(messages.length, 1);
  });

  test('allows any in tests, which edit JSON documents in place to plant faults', async () => {
    const file = 'services/ingestion/test/lint-probe.test.ts';
    assert.deepEqual(await violations(file, anyCode, '@typescript-eslint/no-explicit-any'), []);
  });

  test('reports an unused variable', async () => {
    const code = 'export function f(): number {\n  const unused = 1;\n  return 2;\n}\n';
    const messages = await violations('libs/config/src/lint-probe.ts', code, '@typescript-eslint/no-unused-vars');
    assert.equal(messages.length, 1);
  });
});
