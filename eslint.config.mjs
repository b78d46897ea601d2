// Lint for the whole repository: syntax-level rules only (no type information), so `npm run lint` stays fast.
// Module boundaries (docs: STYLE.md "Our habits"): a service never imports another service, a service's
// src/domain imports no framework, and libs never import services.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));
// Every folder under services/ is a service named @mlops/<folder>; a new service is covered without editing this file.
const services = readdirSync(join(root, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Imports of the given services, by package name (`@mlops/x`, `@mlops/x/...`) or by a relative path into them. */
function serviceImports(names, why) {
  if (names.length === 0) return [];
  const alternatives = names.map(escapeRegex).join('|');
  return [
    { regex: `^@mlops/(${alternatives})(/.*)?$`, message: why },
    // From services/<a>/src/x.ts or deeper, a relative path into services/<b> climbs at least two levels, then names <b>.
    { regex: `^(\\.\\./){2,}(services/)?(${alternatives})(/.*)?$`, message: why },
  ];
}

// Framework and adapter packages: domain code is plain TypeScript that a unit test runs without them.
const frameworkPackages = [
  '@nestjs/*',
  'kafkajs',
  'typeorm',
  'pg',
  '@clickhouse/client',
  'chdb',
  'express',
  '@mlops/messaging',
  '@mlops/storage',
  '@mlops/platform',
  '@mlops/http',
];
const frameworkImports = [
  {
    group: frameworkPackages.flatMap((name) => (name.endsWith('/*') ? [name] : [name, `${name}/*`])),
    message:
      'domain code imports no framework or adapter (STYLE.md habit 3): keep it in the application or infrastructure layer',
  },
];

const serviceRule = (service) =>
  serviceImports(
    services.filter((other) => other !== service),
    'a service never imports another service: share through libs/ or talk through events',
  );

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/*.d.ts',
      '.data/**',
      '.nx/**',
      'coverage/**',
      'libs/contracts/src/generated/**',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node, sourceType: 'module' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { globals: globals.node, sourceType: 'commonjs' },
    // A .cjs file is CommonJS on purpose (the container healthcheck runs it with plain node).
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests edit JSON documents in place to plant faults; `any` there is a deliberate loosening, not a type.
    files: ['**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Later blocks replace earlier options of the same rule, so each file kind gets one complete list.
  ...services.map((service) => ({
    files: [`services/${service}/**/*.{ts,mts,cts,js,mjs,cjs}`],
    rules: { 'no-restricted-imports': ['error', { patterns: serviceRule(service) }] },
  })),
  ...services.map((service) => ({
    files: [`services/${service}/src/domain/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [...serviceRule(service), ...frameworkImports] }] },
  })),
  {
    files: ['libs/**/*.{ts,mts,cts,js,mjs,cjs}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: serviceImports(
            services,
            'libs never import services: a lib is shared by services, not built on one',
          ),
        },
      ],
    },
  },
  {
    // libs/core and libs/ml are what domain code may import, so they are held to the domain's rule (libs/demo-data: pure too).
    files: ['libs/core/**/*.ts', 'libs/ml/**/*.ts', 'libs/demo-data/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...serviceImports(services, 'libs never import services'), ...frameworkImports] },
      ],
    },
  },
  // Last: turns off every stylistic rule that Prettier owns.
  prettier,
);
