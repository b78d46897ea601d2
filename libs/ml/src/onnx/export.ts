import type { TrainedModel } from '../pipeline';
import type { Tree } from '../tree';
import {
  encodeModel,
  TensorType,
  type AttributeValue,
  type OnnxInitializer,
  type OnnxNode,
  type OnnxValueInfo,
} from './onnx-model';

/**
 * How to call the model. `inputName` is one float32 tensor [batch, featureNames.length] of the numeric features in
 * that order (NaN = missing); each categorical feature is a string tensor [batch, 1] of its own ('' = missing), listed
 * in `inputs`. `outputName` is the score [batch, 1]: the probability of the positive class, or the regression value.
 */
export interface ModelSignature {
  readonly inputName: string;
  readonly inputDtype: 'float32';
  readonly featureNames: readonly string[];
  readonly outputName: string;
  readonly inputs: readonly {
    readonly name: string;
    readonly dtype: 'float32' | 'string';
    readonly features: readonly string[];
  }[];
  readonly outputs: readonly {
    readonly name: string;
    readonly dtype: 'float32' | 'int64';
    readonly shape: readonly number[];
  }[];
}

export interface ExportedModel {
  readonly bytes: Uint8Array;
  readonly signature: ModelSignature;
}

export interface ExportOptions {
  readonly modelName: string;
  readonly producerVersion: string;
}

const ML = 'ai.onnx.ml';
const OPSETS: readonly (readonly [string, number])[] = [
  ['', 17],
  [ML, 3],
];
const BATCH = 'N';
export const NUMERIC_INPUT = 'features';
export const SCORE_OUTPUT = 'score';

/**
 * The whole pipeline as one ONNX graph: imputation (Imputer), scaling (Sub, Div) and one-hot encoding with the unseen
 * bucket (OneHotEncoder, then 1 - sum) in the graph, then the linear model (MatMul, Add, Sigmoid) or the tree ensemble
 * (ai.onnx.ml TreeEnsembleRegressor), then `score`, and for binary models `label` (int64, score >= 0.5) and
 * `probabilities` ([1 - score, score]). The preprocessor must list numeric features before categorical ones.
 */
export function exportOnnx(model: TrainedModel, options: ExportOptions): ExportedModel {
  const graph = new GraphBuilder();
  const steps = model.preprocessor.steps;
  const numeric = steps.filter((step) => step.kind === 'numeric');
  const categorical = steps.filter((step) => step.kind === 'categorical');
  if (steps.some((step, i) => (step.kind === 'numeric') !== i < numeric.length)) {
    throw new Error('export: numeric features must come before categorical ones');
  }
  if (numeric.length === 0) throw new Error('export: a model needs at least one numeric feature');
  const inputs: OnnxValueInfo[] = [{ name: NUMERIC_INPUT, type: TensorType.FLOAT, shape: [BATCH, numeric.length] }];
  const columns: string[] = [];
  if (model.preprocessor.options.keepMissing) {
    columns.push(NUMERIC_INPUT);
  } else {
    const imputed = graph.node('Imputer', ML, [NUMERIC_INPUT], {
      imputed_value_floats: { kind: 'floats', value: numeric.map((step) => step.fill) },
      replaced_value_float: { kind: 'float', value: Number.NaN },
    });
    const shifted = graph.node('Sub', '', [
      imputed,
      graph.floats(
        [numeric.length],
        numeric.map((step) => step.offset),
      ),
    ]);
    columns.push(
      graph.node('Div', '', [
        shifted,
        graph.floats(
          [numeric.length],
          numeric.map((step) => step.scale),
        ),
      ]),
    );
  }
  for (const step of categorical) {
    inputs.push({ name: step.name, type: TensorType.STRING, shape: [BATCH, 1] });
    if (step.categories.length === 0)
      throw new Error(`export: categorical feature "${step.name}" has no category to encode`);
    const encoded = graph.node('OneHotEncoder', ML, [step.name], {
      cats_strings: { kind: 'strings', value: step.categories },
      zeros: { kind: 'int', value: 1 },
    });
    const flat = graph.node('Reshape', '', [encoded, graph.ints([2], [-1, step.categories.length])]);
    const seen = graph.node('ReduceSum', '', [flat, graph.ints([1], [1])], { keepdims: { kind: 'int', value: 1 } });
    const unseen = graph.node('Sub', '', [graph.floats([1], [1]), seen]);
    columns.push(graph.node('Concat', '', [flat, unseen], { axis: { kind: 'int', value: 1 } }));
  }
  const features =
    columns.length === 1
      ? (columns[0] as string)
      : graph.node('Concat', '', columns, { axis: { kind: 'int', value: 1 } });

  let score: string;
  const estimator = model.estimator;
  if (estimator.family === 'linear') {
    const weights = Array.from(estimator.model.weights);
    const product = graph.node('MatMul', '', [features, graph.floats([weights.length, 1], weights)]);
    const linear = graph.node('Add', '', [product, graph.floats([1], [estimator.model.intercept])]);
    score =
      estimator.model.kind === 'logistic'
        ? graph.node('Sigmoid', '', [linear], {}, SCORE_OUTPUT)
        : graph.node('Identity', '', [linear], {}, SCORE_OUTPUT);
  } else {
    const ensemble = estimator.model;
    const summed = graph.node(
      'TreeEnsembleRegressor',
      ML,
      [features],
      treeAttributes(ensemble.trees, ensemble.kind === 'random_forest' ? 'AVERAGE' : 'SUM', ensemble.baseScore),
    );
    score = graph.node(
      ensemble.kind === 'gradient_boosting' && ensemble.task === 'binary' ? 'Sigmoid' : 'Identity',
      '',
      [summed],
      {},
      SCORE_OUTPUT,
    );
  }

  const outputs: OnnxValueInfo[] = [{ name: SCORE_OUTPUT, type: TensorType.FLOAT, shape: [BATCH, 1] }];
  if (model.task === 'binary') {
    const negative = graph.node('Sub', '', [graph.floats([1], [1]), score]);
    graph.node('Concat', '', [negative, score], { axis: { kind: 'int', value: 1 } }, 'probabilities');
    const positive = graph.node('GreaterOrEqual', '', [score, graph.floats([1], [0.5])]);
    const label = graph.node('Cast', '', [positive], { to: { kind: 'int', value: TensorType.INT64 } });
    graph.node('Reshape', '', [label, graph.ints([1], [-1])], {}, 'label');
    outputs.push(
      { name: 'label', type: TensorType.INT64, shape: [BATCH] },
      { name: 'probabilities', type: TensorType.FLOAT, shape: [BATCH, 2] },
    );
  }

  const signature: ModelSignature = {
    inputName: NUMERIC_INPUT,
    inputDtype: 'float32',
    featureNames: numeric.map((step) => step.name),
    outputName: SCORE_OUTPUT,
    inputs: [
      { name: NUMERIC_INPUT, dtype: 'float32', features: numeric.map((step) => step.name) },
      ...categorical.map((step) => ({ name: step.name, dtype: 'string' as const, features: [step.name] })),
    ],
    outputs: outputs.map((output) => ({
      name: output.name,
      dtype: output.type === TensorType.INT64 ? 'int64' : 'float32',
      shape: output.shape.map((dim) => (typeof dim === 'number' ? dim : -1)),
    })),
  };
  const bytes = encodeModel({
    graphName: options.modelName,
    producerVersion: options.producerVersion,
    opsets: OPSETS,
    nodes: graph.nodes,
    initializers: graph.initializers,
    inputs,
    outputs,
    metadata: [
      ['algorithm', model.algorithm],
      ['task', model.task],
      ['signature', JSON.stringify(signature)],
      // Training rows per tree node (node ids as in the graph): the covers path-dependent TreeSHAP weighs by.
      ...(estimator.family === 'linear'
        ? []
        : [['tree_covers', JSON.stringify(estimator.model.trees.map((tree) => Array.from(tree.count)))] as const]),
    ],
  });
  return { bytes, signature };
}

function treeAttributes(
  trees: readonly Tree[],
  aggregate: 'SUM' | 'AVERAGE',
  baseScore: number,
): Record<string, AttributeValue> {
  const nodeTree: number[] = [];
  const nodeIds: number[] = [];
  const features: number[] = [];
  const thresholds: number[] = [];
  const modes: string[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTrue: number[] = [];
  const targetTree: number[] = [];
  const targetNode: number[] = [];
  const targetWeights: number[] = [];
  trees.forEach((tree, treeId) => {
    for (let node = 0; node < tree.value.length; node++) {
      const leaf = (tree.left[node] as number) < 0;
      nodeTree.push(treeId);
      nodeIds.push(node);
      features.push(leaf ? 0 : (tree.feature[node] as number));
      thresholds.push(leaf ? 0 : (tree.threshold[node] as number));
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      trueIds.push(leaf ? 0 : (tree.left[node] as number));
      falseIds.push(leaf ? 0 : (tree.right[node] as number));
      missingTrue.push(leaf ? 0 : (tree.missingLeft[node] as number));
      if (leaf) {
        targetTree.push(treeId);
        targetNode.push(node);
        targetWeights.push(tree.value[node] as number);
      }
    }
  });
  return {
    aggregate_function: { kind: 'string', value: aggregate },
    base_values: { kind: 'floats', value: [baseScore] },
    n_targets: { kind: 'int', value: 1 },
    nodes_falsenodeids: { kind: 'ints', value: falseIds },
    nodes_featureids: { kind: 'ints', value: features },
    nodes_missing_value_tracks_true: { kind: 'ints', value: missingTrue },
    nodes_modes: { kind: 'strings', value: modes },
    nodes_nodeids: { kind: 'ints', value: nodeIds },
    nodes_treeids: { kind: 'ints', value: nodeTree },
    nodes_truenodeids: { kind: 'ints', value: trueIds },
    nodes_values: { kind: 'floats', value: thresholds },
    post_transform: { kind: 'string', value: 'NONE' },
    target_ids: { kind: 'ints', value: targetTree.map(() => 0) },
    target_nodeids: { kind: 'ints', value: targetNode },
    target_treeids: { kind: 'ints', value: targetTree },
    target_weights: { kind: 'floats', value: targetWeights },
  };
}

/** Names nodes and intermediate tensors by a counter, so the same model always gives the same graph. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];

  node(
    opType: string,
    domain: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    const name = `${opType.toLowerCase()}_${this.nodes.length}`;
    const out = output ?? `${name}_out`;
    this.nodes.push({ opType, domain, name, inputs, outputs: [out], attributes: Object.entries(attributes) });
    return out;
  }

  floats(dims: readonly number[], values: readonly number[]): string {
    const name = `const_${this.initializers.length}`;
    this.initializers.push({ name, type: TensorType.FLOAT, dims, values });
    return name;
  }

  ints(dims: readonly number[], values: readonly number[]): string {
    const name = `const_${this.initializers.length}`;
    this.initializers.push({ name, type: TensorType.INT64, dims, values });
    return name;
  }
}
