import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { type Algorithm, exportOnnx, trainPipeline } from '@mlops/ml';
import { type EnsembleNode, type EnsembleTree, TreeEnsemble } from '../src/domain/tree-ensemble';
import { TreeShapExplainer, coverExpectation, treeShap } from '../src/domain/tree-shap';
import { churnTable } from './support';

/** A seeded generator in [0, 1). */
function rng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * A random tree over `columns` columns (column c belongs to feature owner[c]): features repeat along paths, covers
 * split the parent's integer cover, missing values go either way.
 */
function randomTree(next: () => number, owner: readonly number[], maxDepth: number): EnsembleTree {
  const nodes: EnsembleNode[] = [];
  const grow = (depth: number, cover: number): number => {
    const id = nodes.length;
    nodes.push({} as EnsembleNode);
    if (depth >= maxDepth || cover < 2 || (depth > 1 && next() < 0.2)) {
      nodes[id] = leaf(next() * 4 - 2, cover);
      return id;
    }
    const column = Math.floor(next() * owner.length);
    const left = 1 + Math.floor(next() * (cover - 1));
    const trueId = grow(depth + 1, left);
    const falseId = grow(depth + 1, cover - left);
    nodes[id] = {
      leaf: false,
      column,
      feature: owner[column] as number,
      threshold: next(),
      trueId,
      falseId,
      missingTrue: next() < 0.5,
      value: 0,
      cover,
    };
    return id;
  };
  grow(0, 200 + Math.floor(next() * 800));
  return nodes;
}

function leaf(value: number, cover: number): EnsembleNode {
  const none = -1;
  return {
    leaf: true,
    column: none,
    feature: none,
    threshold: 0,
    trueId: none,
    falseId: none,
    missingTrue: false,
    value,
    cover,
  };
}

/** E[f(x) | x_S] under the covers: a split on a feature in S follows the row, any other weighs both children. */
function conditional(tree: EnsembleTree, columns: Float64Array, known: ReadonlySet<number>, id = 0): number {
  const node = tree[id] as EnsembleNode;
  if (node.leaf) return node.value;
  if (known.has(node.feature))
    return conditional(tree, columns, known, TreeEnsemble.goesTrue(node, columns) ? node.trueId : node.falseId);
  const t = tree[node.trueId] as EnsembleNode;
  const f = tree[node.falseId] as EnsembleNode;
  return (
    ((t.cover as number) * conditional(tree, columns, known, node.trueId) +
      (f.cover as number) * conditional(tree, columns, known, node.falseId)) /
    (node.cover as number)
  );
}

/** Shapley values by enumerating every subset of the other features (2^(M-1) per feature). */
function bruteForceShapley(trees: readonly EnsembleTree[], columns: Float64Array, features: number): Float64Array {
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  const value = (known: ReadonlySet<number>): number =>
    trees.reduce((sum, tree) => sum + conditional(tree, columns, known), 0);
  const phi = new Float64Array(features);
  for (let i = 0; i < features; i++) {
    const others = [...Array(features).keys()].filter((j) => j !== i);
    for (let mask = 0; mask < 1 << others.length; mask++) {
      const subset = new Set(others.filter((_, k) => (mask >> k) & 1));
      const weight = (factorial(subset.size) * factorial(features - subset.size - 1)) / factorial(features);
      const without = value(subset);
      subset.add(i);
      phi[i] = (phi[i] as number) + weight * (value(subset) - without);
    }
  }
  return phi;
}

function randomColumns(next: () => number, width: number): Float64Array {
  return Float64Array.from({ length: width }, () => (next() < 0.15 ? Number.NaN : next()));
}

const close = (a: number, b: number, relative = 1e-9): boolean =>
  Math.abs(a - b) <= relative * Math.max(1, Math.abs(a), Math.abs(b));

test('TreeSHAP equals brute-force Shapley values of the path-dependent expectation on seeded random trees', () => {
  let checked = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const next = rng(seed);
    const features = 2 + (seed % 5); // 2..6
    const owner = [...Array(features).keys()];
    const trees = Array.from({ length: 1 + (seed % 3) }, () => randomTree(next, owner, 2 + (seed % 5)));
    for (let r = 0; r < 5; r++) {
      const columns = randomColumns(next, features);
      const phi = new Float64Array(features);
      for (const tree of trees) treeShap(tree, columns, phi);
      const expected = bruteForceShapley(trees, columns, features);
      for (let i = 0; i < features; i++)
        assert.ok(
          close(phi[i] as number, expected[i] as number),
          `seed ${seed} row ${r} feature ${i}: ${phi[i]} vs ${expected[i]}`,
        );
      checked++;
    }
  }
  assert.equal(checked, 200);
});

test('TreeSHAP counts the columns of one feature (one-hot of a categorical) as one player', () => {
  for (let seed = 100; seed < 120; seed++) {
    const next = rng(seed);
    // 7 columns, 4 features: columns 2..5 are one categorical feature.
    const owner = [0, 1, 2, 2, 2, 2, 3];
    const trees = [randomTree(next, owner, 6), randomTree(next, owner, 4)];
    for (let r = 0; r < 4; r++) {
      const columns = randomColumns(next, owner.length);
      const phi = new Float64Array(4);
      for (const tree of trees) treeShap(tree, columns, phi);
      const expected = bruteForceShapley(trees, columns, 4);
      for (let i = 0; i < 4; i++)
        assert.ok(
          close(phi[i] as number, expected[i] as number),
          `seed ${seed} feature ${i}: ${phi[i]} vs ${expected[i]}`,
        );
    }
  }
});

test('per tree, the cover expectation plus the TreeSHAP values is the leaf the row reaches', () => {
  const next = rng(7);
  for (let t = 0; t < 50; t++) {
    const tree = randomTree(next, [0, 1, 2, 3, 4, 5], 8);
    const columns = randomColumns(next, 6);
    const phi = new Float64Array(6);
    treeShap(tree, columns, phi);
    let node = tree[0] as EnsembleNode;
    while (!node.leaf) node = tree[TreeEnsemble.goesTrue(node, columns) ? node.trueId : node.falseId] as EnsembleNode;
    const sum = phi.reduce((a, b) => a + b, 0);
    assert.ok(close(coverExpectation(tree) + sum, node.value), `tree ${t}`);
  }
});

/** A trained, exported model, its ensemble and explainer, and ONNX Runtime's scores for a few rows. */
async function trained(algorithm: Algorithm, task: 'binary' | 'regression') {
  const { table, labels } = churnTable(400, 11);
  const targets = task === 'binary' ? labels : Float64Array.from(labels, (l, i) => l * 10 + (i % 7));
  const { model } = trainPipeline(table, targets, task, algorithm, { iterations: 25, maxDepth: 5 }, 11);
  const exported = exportOnnx(model, { modelName: 'churn', producerVersion: 'test' });
  const rows = [
    { numeric: [10, 150], plan: 'basic' },
    { numeric: [900, Number.NaN], plan: 'premium' },
    { numeric: [250, 60.5], plan: 'unheard-of' },
    { numeric: [Number.NaN, Number.NaN], plan: '' },
    { numeric: [400, 99], plan: 'enterprise' },
  ];
  const session = await ort.InferenceSession.create(exported.bytes);
  const results = await session.run({
    features: new ort.Tensor('float32', Float32Array.from(rows.flatMap((r) => r.numeric)), [rows.length, 2]),
    plan: new ort.Tensor(
      'string',
      rows.map((r) => r.plan),
      [rows.length, 1],
    ),
  });
  await session.release();
  const scores = Array.from(results.score?.data as Float32Array);
  const ensemble = TreeEnsemble.of(exported.bytes, ['tenure_days', 'monthly_spend'], ['plan']);
  assert.ok(ensemble, 'the ensemble read from the graph');
  const explainer = TreeShapExplainer.of(ensemble);
  assert.ok(explainer, 'covers in the graph');
  return { bytes: exported.bytes, rows, scores, ensemble, explainer };
}

const cases: [Algorithm, 'binary' | 'regression', string][] = [
  ['gradient_boosting', 'binary', 'log-odds'],
  ['gradient_boosting', 'regression', 'value'],
  ['random_forest', 'binary', 'probability (averaged trees)'],
  ['random_forest', 'regression', 'value (averaged trees)'],
];
for (const [algorithm, task, output] of cases)
  test(`TreeSHAP of a trained ${algorithm} ${task} model: base value + contributions = its ${output}`, async () => {
    const { rows, scores, explainer } = await trained(algorithm, task);
    rows.forEach((row, i) => {
      const explained = explainer.explain({ numeric: Float32Array.from(row.numeric), categorical: { plan: row.plan } });
      const score = scores[i] as number;
      const expected = algorithm === 'gradient_boosting' && task === 'binary' ? Math.log(score / (1 - score)) : score;
      assert.ok(close(explained.margin, expected, 1e-4), `row ${i}: margin ${explained.margin} vs ONNX ${expected}`);
      const sum = Object.values(explained.contributions).reduce((a, b) => a + b, 0);
      assert.ok(close(explained.baseline + sum, explained.margin), `row ${i}: not additive`);
      assert.deepEqual(Object.keys(explained.contributions), ['tenure_days', 'monthly_spend', 'plan']);
    });
  });

test('TreeSHAP of a trained GBDT equals brute-force Shapley values over its features (plan one player)', async () => {
  const { rows, ensemble, explainer } = await trained('gradient_boosting', 'binary');
  for (const row of rows) {
    const input = { numeric: Float32Array.from(row.numeric), categorical: { plan: row.plan } };
    const explained = explainer.explain(input);
    const expected = bruteForceShapley(ensemble.trees, ensemble.columnsOf(input), 3);
    ['tenure_days', 'monthly_spend', 'plan'].forEach((name, i) =>
      assert.ok(close(explained.contributions[name] as number, expected[i] as number), `${name}`),
    );
  }
});

test('a graph without covers gets no TreeSHAP explainer (Saabas remains)', async () => {
  const { bytes } = await trained('gradient_boosting', 'binary');
  // Rename the metadata key in place (same length, so the protobuf stays valid).
  const text = Buffer.from(bytes).toString('latin1').replace('tree_covers', 'tree_cover_');
  const ensemble = TreeEnsemble.of(Buffer.from(text, 'latin1'), ['tenure_days', 'monthly_spend'], ['plan']);
  assert.ok(ensemble);
  assert.equal(ensemble.hasCovers, false);
  assert.equal(TreeShapExplainer.of(ensemble), undefined);
});
