/**
 * The tree ensembles libs/ml exports, read from the ONNX bytes: an ai.onnx.ml TreeEnsembleRegressor after the
 * numeric input (kept raw, NaN for missing) and one OneHotEncoder per categorical input plus its unseen column;
 * `tree_covers` in the model's metadata (training rows per node) when the exporter wrote them. Each split's column
 * is mapped to the feature it belongs to (one-hot columns to their categorical), so explanations credit features.
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

/** The graph's nodes and the model's metadata_props. */
function graphOf(model: Uint8Array): { nodes: Node[]; metadata: Map<string, string> } {
  const top = readFields(model);
  const metadata = new Map<string, string>();
  for (const entry of top.filter((f) => f.field === 14)) {
    const parts = readFields(entry.bytes);
    const key = parts.find((f) => f.field === 1);
    const value = parts.find((f) => f.field === 2);
    if (key && value) metadata.set(text(key.bytes), text(value.bytes));
  }
  const graph = top.find((f) => f.field === 7);
  if (!graph) return { nodes: [], metadata };
  const nodes = readFields(graph.bytes)
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
  return { nodes, metadata };
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

/** One node; `feature` is the index of the feature (not the column) a split reads. */
export interface EnsembleNode {
  readonly leaf: boolean;
  readonly column: number;
  readonly feature: number;
  readonly threshold: number;
  readonly trueId: number;
  readonly falseId: number;
  readonly missingTrue: boolean;
  /** The leaf's value (0 for a branch). */
  readonly value: number;
  /** Training rows that reached the node; undefined when the graph carries no covers. */
  readonly cover: number | undefined;
}

/** A tree as an array indexed by node id; node 0 is the root. */
export type EnsembleTree = readonly EnsembleNode[];

/** Row input: the numeric features (NaN = missing) and each categorical feature's string ('' = missing). */
export interface TreeRow {
  readonly numeric: ArrayLike<number>;
  readonly categorical: Readonly<Record<string, string>>;
}

export class TreeEnsemble {
  private constructor(
    readonly trees: readonly EnsembleTree[],
    /** base_values: added to the (summed or averaged) trees. */
    readonly base: number,
    /** Whether the trees are averaged (random forests) rather than summed (boosting). */
    readonly average: boolean,
    /** Feature names, numeric first then categorical: what `EnsembleNode.feature` indexes. */
    readonly features: readonly string[],
    /** Whether every node has a cover (path-dependent TreeSHAP needs them). */
    readonly hasCovers: boolean,
    private readonly numericCount: number,
    private readonly categories: readonly { name: string; values: string[] }[],
    private readonly width: number,
  ) {}

  /** Each tree's weight in the output: 1 / trees when averaged. */
  get scale(): number {
    return this.average && this.trees.length > 0 ? 1 / this.trees.length : 1;
  }

  /** The ensemble in an exported model, or undefined (no TreeEnsembleRegressor, a post transform, unreadable bytes). */
  static of(
    model: Uint8Array,
    numericFeatures: readonly string[],
    categoricalFeatures: readonly string[],
  ): TreeEnsemble | undefined {
    let graph: { nodes: Node[]; metadata: Map<string, string> };
    try {
      graph = graphOf(model);
    } catch {
      return undefined;
    }
    const { nodes, metadata } = graph;
    const ensemble = nodes.find((node) => node.opType === 'TreeEnsembleRegressor');
    if (!ensemble) return undefined;
    const attr = (name: string): Attribute => ensemble.attributes.get(name) ?? { ints: [], floats: [], strings: [] };
    if ((attr('post_transform').strings[0] ?? 'NONE') !== 'NONE') return undefined;
    const average = attr('aggregate_function').strings[0] === 'AVERAGE';
    const categories = categoricalFeatures.map((name) => ({
      name,
      values:
        nodes.find((node) => node.opType === 'OneHotEncoder' && node.inputs[0] === name)?.attributes.get('cats_strings')
          ?.strings ?? [],
    }));
    const owners: number[] = numericFeatures.map((_, i) => i);
    categories.forEach((category, c) => {
      for (let i = 0; i <= category.values.length; i++) owners.push(numericFeatures.length + c);
    });
    const covers = coversOf(metadata.get('tree_covers'));
    const treeIds = attr('nodes_treeids').ints;
    const nodeIds = attr('nodes_nodeids').ints;
    const values = new Map<string, number>();
    const targetTrees = attr('target_treeids').ints;
    const targetNodes = attr('target_nodeids').ints;
    const weights = attr('target_weights').floats;
    targetTrees.forEach((tree, i) => {
      const key = `${tree}:${targetNodes[i] as number}`;
      values.set(key, (values.get(key) ?? 0) + (weights[i] as number));
    });
    const trees: EnsembleNode[][] = [];
    let hasCovers = covers !== undefined;
    treeIds.forEach((tree, i) => {
      while (trees.length <= tree) trees.push([]);
      const id = nodeIds[i] as number;
      const leaf = attr('nodes_modes').strings[i] === 'LEAF';
      const column = attr('nodes_featureids').ints[i] as number;
      const cover = covers?.[tree]?.[id];
      if (cover === undefined) hasCovers = false;
      (trees[tree] as EnsembleNode[])[id] = {
        leaf,
        column,
        feature: leaf ? -1 : (owners[column] ?? -1),
        threshold: attr('nodes_values').floats[i] as number,
        trueId: attr('nodes_truenodeids').ints[i] as number,
        falseId: attr('nodes_falsenodeids').ints[i] as number,
        missingTrue: attr('nodes_missing_value_tracks_true').ints[i] === 1,
        value: values.get(`${tree}:${id}`) ?? 0,
        cover,
      };
    });
    // A gap in node ids or a split on an unknown column: not a graph this reader understands.
    for (const tree of trees)
      for (let id = 0; id < tree.length; id++) {
        const node = tree[id];
        if (!node || (!node.leaf && (node.feature < 0 || !tree[node.trueId] || !tree[node.falseId]))) return undefined;
      }
    return new TreeEnsemble(
      trees,
      attr('base_values').floats[0] ?? 0,
      average,
      [...numericFeatures, ...categoricalFeatures],
      hasCovers,
      numericFeatures.length,
      categories,
      owners.length,
    );
  }

  /** The ensemble's input columns of a row: the numeric values, then each categorical one-hot plus unseen. */
  columnsOf(row: TreeRow): Float64Array {
    const columns = new Float64Array(this.width);
    for (let i = 0; i < this.numericCount; i++) columns[i] = row.numeric[i] ?? Number.NaN;
    let at = this.numericCount;
    for (const { name, values } of this.categories) {
      const index = values.indexOf(row.categorical[name] ?? '');
      columns[at + (index < 0 ? values.length : index)] = 1;
      at += values.length + 1;
    }
    return columns;
  }

  /** Which child a row's columns go to at a branch, as ONNX Runtime decides (BRANCH_LEQ, missing tracked). */
  static goesTrue(node: EnsembleNode, columns: Float64Array): boolean {
    const x = columns[node.column] as number;
    return Number.isNaN(x) ? node.missingTrue : x <= node.threshold;
  }

  /** The ensemble's output (before any sigmoid): base + scaled sum of the leaves the row reaches. */
  margin(columns: Float64Array): number {
    let margin = this.base;
    for (const tree of this.trees) {
      let node = tree[0] as EnsembleNode;
      while (!node.leaf) node = tree[TreeEnsemble.goesTrue(node, columns) ? node.trueId : node.falseId] as EnsembleNode;
      margin += this.scale * node.value;
    }
    return margin;
  }
}

function coversOf(json: string | undefined): number[][] | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    if (!Array.isArray(parsed)) return undefined;
    const ok = parsed.every(
      (tree) => Array.isArray(tree) && tree.every((c) => typeof c === 'number' && Number.isFinite(c) && c > 0),
    );
    return ok ? (parsed as number[][]) : undefined;
  } catch {
    return undefined;
  }
}
