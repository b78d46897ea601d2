import { type EnsembleTree, TreeEnsemble, type TreeRow } from './tree-ensemble';

/**
 * Saabas per-feature contributions for a tree ensemble (domain/tree-ensemble): each node's expected value is the
 * mean of its children's (no covers needed), and walking a row's decision path, each step's change of expected
 * value is credited to the split's feature. Per tree the steps telescope from the root's expected value to the
 * leaf, so baseline (base value plus the roots' expected values) + contributions = the output, up to rounding.
 * Selectable instead of TreeSHAP (domain/tree-shap), and the fallback for graphs without covers.
 */
export interface SaabasExplanation {
  readonly baseline: number;
  readonly margin: number;
  readonly contributions: Record<string, number>;
}

export class SaabasExplainer {
  private readonly expected: Float64Array[];

  constructor(private readonly ensemble: TreeEnsemble) {
    this.expected = ensemble.trees.map((tree) => {
      const values = new Float64Array(tree.length);
      expectedValue(tree, 0, values);
      return values;
    });
  }

  explain(row: TreeRow): SaabasExplanation {
    const { ensemble } = this;
    const columns = ensemble.columnsOf(row);
    const scale = ensemble.scale;
    const phi = new Float64Array(ensemble.features.length);
    let baseline = ensemble.base;
    let margin = ensemble.base;
    ensemble.trees.forEach((tree, t) => {
      const expected = this.expected[t] as Float64Array;
      let id = 0;
      let node = tree[0];
      if (!node) return;
      baseline += scale * (expected[0] as number);
      while (!node.leaf) {
        const child = TreeEnsemble.goesTrue(node, columns) ? node.trueId : node.falseId;
        phi[node.feature] =
          (phi[node.feature] as number) + scale * ((expected[child] as number) - (expected[id] as number));
        id = child;
        node = tree[id];
        if (!node) return;
      }
      margin += scale * node.value;
    });
    const contributions: Record<string, number> = {};
    ensemble.features.forEach((name, i) => (contributions[name] = phi[i] as number));
    return { baseline, margin, contributions };
  }
}

/** Fills each node's expected value: a leaf's value, a branch's mean of its children's (no covers in the graph). */
function expectedValue(tree: EnsembleTree, id: number, values: Float64Array): number {
  const node = tree[id];
  if (!node) return 0;
  const value = node.leaf
    ? node.value
    : (expectedValue(tree, node.trueId, values) + expectedValue(tree, node.falseId, values)) / 2;
  values[id] = value;
  return value;
}
