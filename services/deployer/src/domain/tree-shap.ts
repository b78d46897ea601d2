import { type EnsembleTree, TreeEnsemble, type TreeRow } from './tree-ensemble';

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion and Lee 2018, "Consistent individualized feature attribution for
 * tree ensembles", algorithm 2): the Shapley values of the features for v(S) = E[f(x) | x_S], where the expectation
 * over the features outside S follows the tree's training covers at each split they decide. Polynomial time: one
 * pass per tree carrying, along the path from the root, the share of subsets of each size that reach the node.
 * A feature met again deeper on a path is unwound from the path first (its fractions multiply), so one-hot columns of
 * one categorical feature count as that one feature. Per tree, expected value + contributions = the leaf reached.
 */

/**
 * The paths of one tree's walk, flat as in the reference implementation: the path of a node at depth d starts where
 * its parent's ends (parent offset + d), so one allocation per tree serves the whole recursion. Per element: the
 * feature, the share of training covers flowing this way when the feature is not in S (zero fraction), 1 when the
 * row goes this way (one fraction), and the weight of the subsets of each size that reach here.
 */
interface Paths {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;
}

function extendPath(p: Paths, at: number, depth: number, zero: number, one: number, feature: number): void {
  p.feature[at + depth] = feature;
  p.zero[at + depth] = zero;
  p.one[at + depth] = one;
  p.weight[at + depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    p.weight[at + i + 1] =
      (p.weight[at + i + 1] as number) + (one * (p.weight[at + i] as number) * (i + 1)) / (depth + 1);
    p.weight[at + i] = (zero * (p.weight[at + i] as number) * (depth - i)) / (depth + 1);
  }
}

function unwindPath(p: Paths, at: number, depth: number, index: number): void {
  const one = p.one[at + index] as number;
  const zero = p.zero[at + index] as number;
  let nextOnePortion = p.weight[at + depth] as number;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const previous = p.weight[at + i] as number;
      p.weight[at + i] = (nextOnePortion * (depth + 1)) / ((i + 1) * one);
      nextOnePortion = previous - ((p.weight[at + i] as number) * zero * (depth - i)) / (depth + 1);
    } else {
      p.weight[at + i] = ((p.weight[at + i] as number) * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    p.feature[at + i] = p.feature[at + i + 1] as number;
    p.zero[at + i] = p.zero[at + i + 1] as number;
    p.one[at + i] = p.one[at + i + 1] as number;
  }
}

/** The total weight of the path with element `index` unwound, without changing the path. */
function unwoundPathSum(p: Paths, at: number, depth: number, index: number): number {
  const one = p.one[at + index] as number;
  const zero = p.zero[at + index] as number;
  let nextOnePortion = p.weight[at + depth] as number;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const portion = (nextOnePortion * (depth + 1)) / ((i + 1) * one);
      total += portion;
      nextOnePortion = (p.weight[at + i] as number) - (portion * zero * (depth - i)) / (depth + 1);
    } else {
      total += (p.weight[at + i] as number) / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

function depthOf(tree: EnsembleTree, id = 0): number {
  const node = tree[id];
  if (!node || node.leaf) return 0;
  return 1 + Math.max(depthOf(tree, node.trueId), depthOf(tree, node.falseId));
}

/** Flat path storage per tree, sized by its depth (trees are immutable once read). */
const storage = new WeakMap<EnsembleTree, Paths>();

function pathsOf(tree: EnsembleTree): Paths {
  let paths = storage.get(tree);
  if (!paths) {
    // A path at depth d holds d + 1 elements (the root's placeholder first); all depths' paths side by side.
    const depth = depthOf(tree) + 2;
    const size = ((depth + 1) * (depth + 2)) / 2;
    paths = {
      feature: new Int32Array(size),
      zero: new Float64Array(size),
      one: new Float64Array(size),
      weight: new Float64Array(size),
    };
    storage.set(tree, paths);
  }
  return paths;
}

/**
 * Adds `scale` x the SHAP values of one tree for a row (its ensemble columns) to `phi`, indexed by feature. Needs
 * every node's cover.
 */
export function treeShap(tree: EnsembleTree, columns: Float64Array, phi: Float64Array, scale = 1): void {
  const p = pathsOf(tree);
  const recurse = (id: number, parentAt: number, parentDepth: number, zero: number, one: number, feature: number) => {
    // This node's path starts after its parent's (parentDepth + 1 elements, the last one written below).
    const at = parentAt + parentDepth;
    for (let i = 0; i < parentDepth; i++) {
      p.feature[at + i] = p.feature[parentAt + i] as number;
      p.zero[at + i] = p.zero[parentAt + i] as number;
      p.one[at + i] = p.one[parentAt + i] as number;
      p.weight[at + i] = p.weight[parentAt + i] as number;
    }
    let depth = parentDepth;
    extendPath(p, at, depth, zero, one, feature);
    const node = tree[id];
    if (!node) return;
    if (node.leaf) {
      for (let i = 1; i <= depth; i++) {
        const f = p.feature[at + i] as number;
        const weight = unwoundPathSum(p, at, depth, i);
        phi[f] =
          (phi[f] as number) + scale * weight * ((p.one[at + i] as number) - (p.zero[at + i] as number)) * node.value;
      }
      return;
    }
    const goesTrue = TreeEnsemble.goesTrue(node, columns);
    const hot = goesTrue ? node.trueId : node.falseId;
    const cold = goesTrue ? node.falseId : node.trueId;
    const cover = node.cover as number;
    const hotZero = (tree[hot]?.cover as number) / cover;
    const coldZero = (tree[cold]?.cover as number) / cover;
    let incomingZero = 1;
    let incomingOne = 1;
    // A feature already on the path: take its fractions over and unwind it, so it counts once.
    let index = 0;
    while (index <= depth && p.feature[at + index] !== node.feature) index++;
    if (index <= depth) {
      incomingZero = p.zero[at + index] as number;
      incomingOne = p.one[at + index] as number;
      unwindPath(p, at, depth, index);
      depth -= 1;
    }
    recurse(hot, at, depth + 1, hotZero * incomingZero, incomingOne, node.feature);
    recurse(cold, at, depth + 1, coldZero * incomingZero, 0, node.feature);
  };
  recurse(0, 0, 0, 1, 1, -1);
}

/** The tree's expected value under its covers: the mean leaf value over the training rows. */
export function coverExpectation(tree: EnsembleTree, id = 0): number {
  const node = tree[id];
  if (!node) return 0;
  if (node.leaf) return node.value;
  const cover = node.cover as number;
  return (
    ((tree[node.trueId]?.cover as number) * coverExpectation(tree, node.trueId) +
      (tree[node.falseId]?.cover as number) * coverExpectation(tree, node.falseId)) /
    cover
  );
}

export interface TreeShapExplanation {
  /** base value + the trees' expected values: the output when no feature is known. */
  readonly baseline: number;
  /** The ensemble's output for the row: the margin of a boosted model, the (averaged) value of a forest. */
  readonly margin: number;
  readonly contributions: Record<string, number>;
}

export class TreeShapExplainer {
  private readonly baseline: number;

  private constructor(private readonly ensemble: TreeEnsemble) {
    this.baseline = ensemble.trees.reduce((sum, tree) => sum + ensemble.scale * coverExpectation(tree), ensemble.base);
  }

  /** Undefined when the graph carries no covers (models exported before libs/ml wrote them). */
  static of(ensemble: TreeEnsemble): TreeShapExplainer | undefined {
    return ensemble.hasCovers ? new TreeShapExplainer(ensemble) : undefined;
  }

  explain(row: TreeRow): TreeShapExplanation {
    const columns = this.ensemble.columnsOf(row);
    const phi = new Float64Array(this.ensemble.features.length);
    for (const tree of this.ensemble.trees) treeShap(tree, columns, phi, this.ensemble.scale);
    const contributions: Record<string, number> = {};
    this.ensemble.features.forEach((name, i) => (contributions[name] = phi[i] as number));
    return { baseline: this.baseline, margin: this.ensemble.margin(columns), contributions };
  }
}
