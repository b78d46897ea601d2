/**
 * Saabas per-feature contributions for the tree ensembles libs/ml exports (ai.onnx.ml TreeEnsembleRegressor after
 * the numeric input, kept raw with NaN for missing, and one OneHotEncoder per categorical input plus its unseen
 * column): each node's expected value is the mean of its children's (the ONNX graph carries no node covers), and
 * walking a row's decision path, each step's change of expected value is credited to the split's feature (one-hot
 * columns to their categorical feature). Per tree the steps telescope from the root's expected value to the leaf,
 * so baseline (base value plus the roots' expected values) + contributions = the margin, exactly up to rounding.
 * Stated fallback for TreeSHAP (not built).
 */

interface Field {
  readonly field: number;
  readonly wire: number;
  readonly int: bigint;
  readonly bytes: Uint8Array;
}

function readFields(buffer: Uint8Array): Field[] {
  const fields: Field[] = [];
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[at++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  const empty = new Uint8Array(0);
  while (at < buffer.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) fields.push({ field, wire, int: varint(), bytes: empty });
    else if (wire === 2) {
      const length = Number(varint());
      fields.push({ field, wire, int: 0n, bytes: buffer.subarray(at, at + length) });
      at += length;
    } else if (wire === 5) {
      fields.push({ field, wire, int: 0n, bytes: buffer.subarray(at, at + 4) });
      at += 4;
    } else if (wire === 1) {
      fields.push({ field, wire, int: view.getBigInt64(at, true), bytes: empty });
      at += 8;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return fields;
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const signed = (value: bigint): number => Number(BigInt.asIntN(64, value));

interface Attribute {
  readonly ints: number[];
  readonly floats: number[];
  readonly strings: string[];
}

interface Node {
  readonly opType: string;
  readonly inputs: string[];
  readonly attributes: Map<string, Attribute>;
}

function nodesOf(model: Uint8Array): Node[] {
  const graph = readFields(model).find((f) => f.field === 7);
  if (!graph) return [];
  return readFields(graph.bytes)
    .filter((f) => f.field === 1)
    .map((nodeField) => {
      const node = { opType: '', inputs: [] as string[], attributes: new Map<string, Attribute>() };
      for (const f of readFields(nodeField.bytes)) {
        if (f.field === 1) node.inputs.push(text(f.bytes));
        else if (f.field === 4) node.opType = text(f.bytes);
        else if (f.field === 5) {
          let name = '';
          const attribute: Attribute = { ints: [], floats: [], strings: [] };
          for (const a of readFields(f.bytes)) {
            if (a.field === 1) name = text(a.bytes);
            else if (a.field === 2 || a.field === 4) attribute.strings.push(text(a.bytes));
            else if (a.field === 3) attribute.ints.push(signed(a.int));
            else if (a.field === 7 && a.wire === 2) {
              const v = new DataView(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength);
              for (let i = 0; i + 4 <= a.bytes.length; i += 4) attribute.floats.push(v.getFloat32(i, true));
            } else if (a.field === 8 && a.wire === 2) {
              for (const packed of readPacked(a.bytes)) attribute.ints.push(packed);
            } else if (a.field === 9) attribute.strings.push(text(a.bytes));
          }
          node.attributes.set(name, attribute);
        }
      }
      return node;
    });
}

function readPacked(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let at = 0;
  while (at < bytes.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[at++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(signed(result));
  }
  return out;
}

interface TreeNode {
  leaf: boolean;
  feature: number;
  threshold: number;
  trueId: number;
  falseId: number;
  missingTrue: boolean;
  value: number;
}

export interface SaabasExplanation {
  readonly baseline: number;
  readonly margin: number;
  readonly contributions: Record<string, number>;
}

/** Row input: the numeric features (NaN = missing) and each categorical feature's string ('' = missing). */
export interface TreeRow {
  readonly numeric: ArrayLike<number>;
  readonly categorical: Readonly<Record<string, string>>;
}

export class SaabasExplainer {
  private constructor(
    private readonly trees: Map<number, TreeNode>[],
    private readonly base: number,
    private readonly average: boolean,
    /** Per column of the ensemble's input: the feature it belongs to. */
    private readonly owners: string[],
    private readonly numericCount: number,
    private readonly categories: { name: string; values: string[] }[],
  ) {}

  /**
   * The explainer of an exported tree ensemble whose margin is its summed trees (regressors; binary GBDT, a
   * sigmoid of the sum); undefined for anything else (linear models, an averaged classifier's probability).
   */
  static of(
    model: Uint8Array,
    numericFeatures: readonly string[],
    categoricalFeatures: readonly string[],
    classifier: boolean,
  ): SaabasExplainer | undefined {
    let nodes: Node[];
    try {
      nodes = nodesOf(model);
    } catch {
      return undefined;
    }
    const ensemble = nodes.find((node) => node.opType === 'TreeEnsembleRegressor');
    if (!ensemble) return undefined;
    const attr = (name: string): Attribute => ensemble.attributes.get(name) ?? { ints: [], floats: [], strings: [] };
    const average = attr('aggregate_function').strings[0] === 'AVERAGE';
    if (average && classifier) return undefined;
    if ((attr('post_transform').strings[0] ?? 'NONE') !== 'NONE') return undefined;
    const categories = categoricalFeatures.map((name) => ({
      name,
      values:
        nodes.find((node) => node.opType === 'OneHotEncoder' && node.inputs[0] === name)?.attributes.get('cats_strings')
          ?.strings ?? [],
    }));
    const owners = [...numericFeatures];
    for (const category of categories) for (let i = 0; i <= category.values.length; i++) owners.push(category.name);
    const trees: Map<number, TreeNode>[] = [];
    const treeIds = attr('nodes_treeids').ints;
    const nodeIds = attr('nodes_nodeids').ints;
    treeIds.forEach((tree, i) => {
      while (trees.length <= tree) trees.push(new Map());
      (trees[tree] as Map<number, TreeNode>).set(nodeIds[i] as number, {
        leaf: attr('nodes_modes').strings[i] === 'LEAF',
        feature: attr('nodes_featureids').ints[i] as number,
        threshold: attr('nodes_values').floats[i] as number,
        trueId: attr('nodes_truenodeids').ints[i] as number,
        falseId: attr('nodes_falsenodeids').ints[i] as number,
        missingTrue: attr('nodes_missing_value_tracks_true').ints[i] === 1,
        value: 0,
      });
    });
    const targetTrees = attr('target_treeids').ints;
    const targetNodes = attr('target_nodeids').ints;
    const weights = attr('target_weights').floats;
    targetTrees.forEach((tree, i) => {
      const node = trees[tree]?.get(targetNodes[i] as number);
      if (node) node.value += weights[i] as number;
    });
    for (const tree of trees) expectedValue(tree, 0);
    return new SaabasExplainer(
      trees,
      attr('base_values').floats[0] ?? 0,
      average,
      owners,
      numericFeatures.length,
      categories,
    );
  }

  explain(row: TreeRow): SaabasExplanation {
    const columns = new Float64Array(this.owners.length);
    for (let i = 0; i < this.numericCount; i++) columns[i] = row.numeric[i] ?? Number.NaN;
    let at = this.numericCount;
    for (const { name, values } of this.categories) {
      const index = values.indexOf(row.categorical[name] ?? '');
      for (let i = 0; i <= values.length; i++) columns[at + i] = 0;
      columns[at + (index < 0 ? values.length : index)] = 1;
      at += values.length + 1;
    }
    const scale = this.average && this.trees.length > 0 ? 1 / this.trees.length : 1;
    const contributions: Record<string, number> = {};
    for (const owner of this.owners) contributions[owner] = 0;
    let baseline = this.base;
    let margin = this.base;
    for (const tree of this.trees) {
      let node = tree.get(0);
      if (!node) continue;
      baseline += scale * node.value;
      while (node && !node.leaf) {
        const x = columns[node.feature] as number;
        const goTrue = Number.isNaN(x) ? node.missingTrue : x <= node.threshold;
        const child: TreeNode | undefined = tree.get(goTrue ? node.trueId : node.falseId);
        if (!child) break;
        const owner = this.owners[node.feature] as string;
        contributions[owner] = (contributions[owner] as number) + scale * (child.value - node.value);
        node = child;
      }
      margin += scale * (node?.value ?? 0);
    }
    return { baseline, margin, contributions };
  }
}

/** Fills each branch's expected value: the mean of its children's (no covers in the graph). */
function expectedValue(tree: Map<number, TreeNode>, id: number): number {
  const node = tree.get(id);
  if (!node) return 0;
  if (node.leaf) return node.value;
  node.value = (expectedValue(tree, node.trueId) + expectedValue(tree, node.falseId)) / 2;
  return node.value;
}
