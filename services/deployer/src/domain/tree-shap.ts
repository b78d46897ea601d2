import { type EnsembleTree, TreeEnsemble, type TreeRow } from './tree-ensemble';

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion and Lee 2018, "Consistent individualized feature attribution for
 * tree ensembles", algorithm 2): the Shapley values of the features for v(S) = E[f(x) | x_S], where the expectation
 * over the features outside S follows the tree's training covers at each split they decide. Polynomial time: one
 * pass per tree carrying, along the path from the root, the share of subsets of each size that reach the node.
 * A feature met again deeper on a path is unwound from the path first (its fractions multiply), so one-hot columns of
 * one categorical feature count as that one feature. Per tree, expected value + contributions = the leaf reached.
 */

interface PathElement {
  feature: number;
  /** Share of the training covers flowing this way when the feature is not in S. */
  zeroFraction: number;
  /** 1 when the row itself goes this way (the feature in S), else 0. */
  oneFraction: number;
  /** Weight of the subsets of each size (by position) that reach here. */
  weight: number;
}

function extendPath(path: PathElement[], depth: number, zero: number, one: number, feature: number): void {
  path[depth] = { feature, zeroFraction: zero, oneFraction: one, weight: depth === 0 ? 1 : 0 };
  for (let i = depth - 1; i >= 0; i--) {
    const at = path[i] as PathElement;
    const next = path[i + 1] as PathElement;
    next.weight += (one * at.weight * (i + 1)) / (depth + 1);
    at.weight = (zero * at.weight * (depth - i)) / (depth + 1);
  }
}

function unwindPath(path: PathElement[], depth: number, index: number): void {
  const { oneFraction: one, zeroFraction: zero } = path[index] as PathElement;
  let nextOnePortion = (path[depth] as PathElement).weight;
  for (let i = depth - 1; i >= 0; i--) {
    const at = path[i] as PathElement;
    if (one !== 0) {
      const previous = at.weight;
      at.weight = (nextOnePortion * (depth + 1)) / ((i + 1) * one);
      nextOnePortion = previous - (at.weight * zero * (depth - i)) / (depth + 1);
    } else {
      at.weight = (at.weight * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    const at = path[i] as PathElement;
    const next = path[i + 1] as PathElement;
    at.feature = next.feature;
    at.zeroFraction = next.zeroFraction;
    at.oneFraction = next.oneFraction;
  }
}

/** The total weight of the path with element `index` unwound, without changing the path. */
function unwoundPathSum(path: readonly PathElement[], depth: number, index: number): number {
  const { oneFraction: one, zeroFraction: zero } = path[index] as PathElement;
  let nextOnePortion = (path[depth] as PathElement).weight;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    const at = path[i] as PathElement;
    if (one !== 0) {
      const portion = (nextOnePortion * (depth + 1)) / ((i + 1) * one);
      total += portion;
      nextOnePortion = at.weight - (portion * zero * (depth - i)) / (depth + 1);
    } else {
      total += at.weight / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

/**
 * Adds `scale` x the SHAP values of one tree for a row (its ensemble columns) to `phi`, indexed by feature. Needs
 * every node's cover.
 */
export function treeShap(tree: EnsembleTree, columns: Float64Array, phi: Float64Array, scale = 1): void {
  const recurse = (
    id: number,
    parentPath: readonly PathElement[],
    parentDepth: number,
    zero: number,
    one: number,
    feature: number,
  ): void => {
    const path: PathElement[] = [];
    for (let i = 0; i < parentDepth; i++) path.push({ ...(parentPath[i] as PathElement) });
    let depth = parentDepth;
    extendPath(path, depth, zero, one, feature);
    const node = tree[id];
    if (!node) return;
    if (node.leaf) {
      for (let i = 1; i <= depth; i++) {
        const element = path[i] as PathElement;
        const weight = unwoundPathSum(path, depth, i);
        phi[element.feature] =
          (phi[element.feature] as number) + scale * weight * (element.oneFraction - element.zeroFraction) * node.value;
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
    while (index <= depth && (path[index] as PathElement).feature !== node.feature) index++;
    if (index <= depth) {
      incomingZero = (path[index] as PathElement).zeroFraction;
      incomingOne = (path[index] as PathElement).oneFraction;
      unwindPath(path, depth, index);
      depth -= 1;
    }
    recurse(hot, path, depth + 1, hotZero * incomingZero, incomingOne, node.feature);
    recurse(cold, path, depth + 1, coldZero * incomingZero, 0, node.feature);
  };
  recurse(0, [], 0, 1, 1, -1);
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
