import { binCount, MISSING_BIN, type BinMapper, type BinnedMatrix } from './binning';
import type { Matrix } from './data';
import type { Rng } from './random';

/**
 * A binary tree in flat arrays. Node 0 is the root; a leaf has left = right = -1. An inner node sends a row left
 * when fround(x[feature]) <= threshold, and a missing value to the side `missingLeft` says.
 */
export interface Tree {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly missingLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  /** Rows of the training sample that reached each node (with bootstrap repeats). */
  readonly count: Float64Array;
}

export interface TreeParams {
  readonly maxDepth: number;
  readonly maxLeaves: number;
  readonly minSamplesLeaf: number;
  /** L2 penalty on leaf values (XGBoost's lambda). */
  readonly l2: number;
  readonly minGain: number;
  /** Share of the features considered at each split (random forests sample them, boosting uses 1). */
  readonly featureFraction: number;
  /** Multiplies every leaf value (the boosting learning rate). */
  readonly shrinkage: number;
}

const HIST_BINS = MISSING_BIN + 1;
const MIN_HESSIAN = 1e-3;

interface Split {
  readonly feature: number;
  readonly bin: number;
  readonly missingLeft: boolean;
  readonly gain: number;
}

interface GrowingNode {
  readonly id: number;
  readonly rows: Uint32Array;
  readonly depth: number;
  readonly sumG: number;
  readonly sumH: number;
  histogram: Float64Array | null;
  split: Split | null;
}

/**
 * Grows one tree leaf-wise (best gain first, as LightGBM) on histograms of gradients and hessians, building the
 * smaller child's histogram and deriving the larger one by subtraction. Leaf value = -G / (H + l2) * shrinkage.
 */
export function growTree(
  data: BinnedMatrix,
  mapper: BinMapper,
  gradients: Float64Array,
  hessians: Float64Array,
  rows: Uint32Array,
  params: TreeParams,
  rng: Rng,
): Tree {
  const nodes: {
    feature: number;
    threshold: number;
    missingLeft: boolean;
    left: number;
    right: number;
    value: number;
    count: number;
  }[] = [];
  const newNode = (rowsOfNode: Uint32Array, depth: number, histogram: Float64Array): GrowingNode => {
    let sumG = 0;
    let sumH = 0;
    for (const row of rowsOfNode) {
      sumG += gradients[row] as number;
      sumH += hessians[row] as number;
    }
    const id = nodes.length;
    nodes.push({
      feature: -1,
      threshold: 0,
      missingLeft: false,
      left: -1,
      right: -1,
      value: leafValue(sumG, sumH, params),
      count: rowsOfNode.length,
    });
    const node: GrowingNode = { id, rows: rowsOfNode, depth, sumG, sumH, histogram, split: null };
    node.split = depth < params.maxDepth ? bestSplit(node, data, mapper, params, rng) : null;
    return node;
  };
  const open: GrowingNode[] = [newNode(rows, 0, buildHistogram(data, gradients, hessians, rows))];
  let leaves = 1;
  while (leaves < params.maxLeaves) {
    let best = -1;
    for (let i = 0; i < open.length; i++) {
      const candidate = open[i]?.split;
      if (candidate && (best < 0 || candidate.gain > (open[best]?.split?.gain ?? -Infinity))) best = i;
    }
    if (best < 0) break;
    const parent = open[best] as GrowingNode;
    const split = parent.split as Split;
    open.splice(best, 1);
    const [leftRows, rightRows] = partition(data, parent.rows, split);
    const smallerIsLeft = leftRows.length <= rightRows.length;
    const smallHistogram = buildHistogram(data, gradients, hessians, smallerIsLeft ? leftRows : rightRows);
    const parentHistogram = parent.histogram as Float64Array;
    for (let i = 0; i < parentHistogram.length; i++)
      parentHistogram[i] = (parentHistogram[i] as number) - (smallHistogram[i] as number);
    const leftNode = newNode(leftRows, parent.depth + 1, smallerIsLeft ? smallHistogram : parentHistogram);
    const rightNode = newNode(rightRows, parent.depth + 1, smallerIsLeft ? parentHistogram : smallHistogram);
    parent.histogram = null;
    const record = nodes[parent.id] as (typeof nodes)[number];
    record.feature = split.feature;
    record.threshold = (mapper.thresholds[split.feature] as Float64Array)[split.bin] as number;
    record.missingLeft = split.missingLeft;
    record.left = leftNode.id;
    record.right = rightNode.id;
    for (const child of [leftNode, rightNode]) {
      if (child.split) open.push(child);
      else child.histogram = null;
    }
    leaves += 1;
  }
  return {
    feature: Int32Array.from(nodes, (node) => node.feature),
    threshold: Float64Array.from(nodes, (node) => node.threshold),
    missingLeft: Uint8Array.from(nodes, (node) => (node.missingLeft ? 1 : 0)),
    left: Int32Array.from(nodes, (node) => node.left),
    right: Int32Array.from(nodes, (node) => node.right),
    value: Float64Array.from(nodes, (node) => node.value),
    count: Float64Array.from(nodes, (node) => node.count),
  };
}

/** The leaf a raw (unbinned, possibly NaN) row reaches. */
export function leafOf(tree: Tree, x: Float64Array | number[], offset = 0): number {
  let node = 0;
  while ((tree.left[node] as number) >= 0) {
    const value = x[offset + (tree.feature[node] as number)] as number;
    const goLeft = Number.isNaN(value)
      ? tree.missingLeft[node] === 1
      : Math.fround(value) <= (tree.threshold[node] as number);
    node = goLeft ? (tree.left[node] as number) : (tree.right[node] as number);
  }
  return node;
}

export function predictTree(tree: Tree, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) out[r] = tree.value[leafOf(tree, x.data, r * x.cols)] as number;
  return out;
}

export function leafCount(tree: Tree): number {
  let leaves = 0;
  for (const left of tree.left) if (left < 0) leaves++;
  return leaves;
}

function leafValue(sumG: number, sumH: number, params: TreeParams): number {
  // + 0 turns -0 into 0, so a leaf of all-zero targets is plainly 0.
  return (-sumG / (sumH + params.l2)) * params.shrinkage + 0;
}

function buildHistogram(
  data: BinnedMatrix,
  gradients: Float64Array,
  hessians: Float64Array,
  rows: Uint32Array,
): Float64Array {
  // Per feature and bin: sum of gradients, sum of hessians, row count.
  const histogram = new Float64Array(data.cols * HIST_BINS * 3);
  for (let feature = 0; feature < data.cols; feature++) {
    const base = feature * data.rows;
    const out = feature * HIST_BINS * 3;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k] as number;
      const slot = out + (data.bins[base + row] as number) * 3;
      histogram[slot] = (histogram[slot] as number) + (gradients[row] as number);
      histogram[slot + 1] = (histogram[slot + 1] as number) + (hessians[row] as number);
      histogram[slot + 2] = (histogram[slot + 2] as number) + 1;
    }
  }
  return histogram;
}

function bestSplit(
  node: GrowingNode,
  data: BinnedMatrix,
  mapper: BinMapper,
  params: TreeParams,
  rng: Rng,
): Split | null {
  const histogram = node.histogram as Float64Array;
  const total = node.rows.length;
  if (total < 2 * params.minSamplesLeaf) return null;
  const parentScore = (node.sumG * node.sumG) / (node.sumH + params.l2);
  let best: Split | null = null;
  for (const feature of sampleFeatures(data.cols, params.featureFraction, rng)) {
    const base = feature * HIST_BINS * 3;
    const bins = binCount(mapper, feature);
    const missingSlot = base + MISSING_BIN * 3;
    const gMissing = histogram[missingSlot] as number;
    const hMissing = histogram[missingSlot + 1] as number;
    const cMissing = histogram[missingSlot + 2] as number;
    let gLeft = 0;
    let hLeft = 0;
    let cLeft = 0;
    for (let bin = 0; bin + 1 < bins; bin++) {
      const slot = base + bin * 3;
      gLeft += histogram[slot] as number;
      hLeft += histogram[slot + 1] as number;
      cLeft += histogram[slot + 2] as number;
      // Missing values right, then (when there are any) left; without any, they follow the larger side.
      for (const missingLeft of cMissing > 0 ? [false, true] : [false]) {
        const gl = missingLeft ? gLeft + gMissing : gLeft;
        const hl = missingLeft ? hLeft + hMissing : hLeft;
        const cl = missingLeft ? cLeft + cMissing : cLeft;
        const cr = total - cl;
        if (cl < params.minSamplesLeaf || cr < params.minSamplesLeaf) continue;
        const hr = node.sumH - hl;
        if (hl < MIN_HESSIAN || hr < MIN_HESSIAN) continue;
        const gr = node.sumG - gl;
        const gain = (gl * gl) / (hl + params.l2) + (gr * gr) / (hr + params.l2) - parentScore;
        if (gain > params.minGain && (best === null || gain > best.gain)) {
          best = { feature, bin, missingLeft: cMissing > 0 ? missingLeft : cl >= cr, gain };
        }
      }
    }
  }
  return best;
}

function sampleFeatures(cols: number, fraction: number, rng: Rng): number[] {
  const all = Array.from({ length: cols }, (_, i) => i);
  if (fraction >= 1) return all;
  const wanted = Math.max(1, Math.round(cols * fraction));
  for (let i = 0; i < wanted; i++) {
    const j = i + rng.int(cols - i);
    [all[i], all[j]] = [all[j] as number, all[i] as number];
  }
  return all.slice(0, wanted).sort((a, b) => a - b);
}

function partition(data: BinnedMatrix, rows: Uint32Array, split: Split): [Uint32Array, Uint32Array] {
  const base = split.feature * data.rows;
  const left: number[] = [];
  const right: number[] = [];
  for (const row of rows) {
    const bin = data.bins[base + row] as number;
    const goLeft = bin === MISSING_BIN ? split.missingLeft : bin <= split.bin;
    (goLeft ? left : right).push(row);
  }
  return [Uint32Array.from(left), Uint32Array.from(right)];
}
