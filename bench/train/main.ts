// bench/train: our gradient boosting, random forest and logistic regression against scikit-learn's
// HistGradientBoostingClassifier, RandomForestClassifier and LogisticRegression, on one synthetic dataset with a
// known nonlinear relation and the same split, in the same run. scikit-learn comes from a cached virtualenv
// (bench/train/run.sh makes it under ~/.cache/mlops/venv-sklearn), never from the platform's dependencies.
//   node bench/dist/train/main.js [rows=100000] [python=~/.cache/mlops/venv-sklearn/bin/python]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type RawTable,
  createRng,
  predictModel,
  rocAuc,
  seededSplit,
  takeTableRows,
  takeValues,
  trainPipeline,
  type Algorithm,
  type HyperParams,
} from '@mlops/ml';

const rows = Number(process.argv[2] ?? 100_000);
const python = process.argv[3] ?? join(homedir(), '.cache', 'mlops', 'venv-sklearn', 'bin', 'python');
const NUMERIC = 20;
const CATEGORIES = ['a', 'b', 'c', 'd', 'e'];

/** 20 numeric and 3 categorical features, 10% of every feature missing; the label follows a nonlinear score. */
function dataset(n: number, seed: number): { table: RawTable; labels: Float64Array } {
  const rng = createRng(seed);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const numeric = Array.from({ length: NUMERIC }, () => new Float64Array(n));
  const categorical = Array.from({ length: 3 }, () => new Array<string | null>(n));
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = numeric.map(() => gaussian());
    const c = categorical.map(() => CATEGORIES[rng.int(CATEGORIES.length)] as string);
    const score =
      Math.sin(2 * (x[0] as number)) +
      (x[1] as number) * (x[2] as number) +
      ((x[3] as number) > 0.5 ? 1 : -0.5) +
      0.5 * (x[4] as number) ** 2 -
      0.7 * (x[5] as number) +
      (c[0] === 'a' ? 1 : c[0] === 'b' ? -1 : 0) +
      (c[1] === 'e' && (x[6] as number) > 0 ? 1.5 : 0) -
      0.5 +
      0.8 * gaussian();
    labels[i] = score > 0 ? 1 : 0;
    x.forEach((value, j) => ((numeric[j] as Float64Array)[i] = rng.next() < 0.1 ? Number.NaN : value));
    c.forEach((value, j) => ((categorical[j] as (string | null)[])[i] = rng.next() < 0.1 ? null : value));
  }
  return {
    table: {
      rows: n,
      columns: [
        ...numeric.map((values, j) => ({ name: `x${j}`, kind: 'numeric' as const, values })),
        ...categorical.map((values, j) => ({ name: `c${j}`, kind: 'categorical' as const, values })),
      ],
    },
    labels,
  };
}

function writeCsv(path: string, table: RawTable, labels: Float64Array, split: Uint32Array): void {
  const header = [...table.columns.map((column) => column.name), 'y', 'is_test'].join(',');
  const isTest = new Uint8Array(table.rows);
  for (const row of split) isTest[row] = 1;
  const lines = [header];
  for (let r = 0; r < table.rows; r++) {
    const cells = table.columns.map((column) => {
      const value = column.values[r];
      return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))
        ? ''
        : String(value);
    });
    lines.push([...cells, String(labels[r]), String(isTest[r])].join(','));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const { table, labels } = dataset(rows, 42);
const split = seededSplit(rows, 0.2, 7, labels);
const trainTable = takeTableRows(table, split.train);
const trainLabels = takeValues(labels, split.train);
const testTable = takeTableRows(table, split.test);
const testLabels = takeValues(labels, split.test);

const families: { family: string; algorithm: Algorithm; params: HyperParams }[] = [
  {
    family: 'gradient_boosting',
    algorithm: 'gradient_boosting',
    params: {
      iterations: 100,
      learningRate: 0.1,
      maxLeaves: 31,
      maxDepth: 64,
      minSamplesLeaf: 20,
      earlyStopping: false,
    },
  },
  {
    family: 'random_forest',
    algorithm: 'random_forest',
    params: { trees: 100, maxDepth: 12, maxLeaves: 4096, minSamplesLeaf: 5 },
  },
  { family: 'logistic_regression', algorithm: 'logistic_regression', params: { l2: 1 } },
];
const ours: Record<string, { auc: number; seconds: number }> = {};
for (const { family, algorithm, params } of families) {
  const started = process.hrtime.bigint();
  const { model } = trainPipeline(trainTable, trainLabels, 'binary', algorithm, params, 1);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  ours[family] = { auc: rocAuc(testLabels, predictModel(model, testTable)) ?? Number.NaN, seconds };
}

let sklearn: Record<string, { auc: number; seconds: number }> | null = null;
let why = '';
const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));
try {
  const csv = join(dir, 'data.csv');
  writeCsv(csv, table, labels, split.test);
  const out = execFileSync(python, [join(__dirname, '..', '..', 'train', 'sklearn_baseline.py'), csv], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  sklearn = JSON.parse(out) as Record<string, { auc: number; seconds: number }>;
} catch (error) {
  why = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`bench/train: ${rows} rows (${NUMERIC} numeric, 3 categorical, 10% missing), test 20% stratified`);
console.log('family               ours AUC  ours fit s  sklearn AUC  sklearn fit s  AUC diff  fit ratio');
for (const { family } of families) {
  const o = ours[family] as { auc: number; seconds: number };
  const s = sklearn?.[family];
  const cells = [
    family.padEnd(20),
    o.auc.toFixed(4).padStart(9),
    o.seconds.toFixed(2).padStart(11),
    (s ? s.auc.toFixed(4) : '-').padStart(12),
    (s ? s.seconds.toFixed(2) : '-').padStart(14),
    (s ? (o.auc - s.auc).toFixed(4) : '-').padStart(9),
    (s ? (o.seconds / s.seconds).toFixed(2) : '-').padStart(10),
  ];
  console.log(cells.join(' '));
}
if (!sklearn) console.log(`scikit-learn baseline unavailable (${why}): run bench/train/run.sh to make the virtualenv`);
