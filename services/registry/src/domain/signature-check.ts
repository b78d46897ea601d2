/** An input or output of an ONNX graph as the runtime reads it. */
export interface GraphValue {
  readonly name: string;
  /** Element type ('float32', 'string', 'int64', ...), or null for a non-tensor value. */
  readonly type: string | null;
  /** Dimensions: a number is fixed, a string symbolic (the batch). */
  readonly shape: readonly (number | string)[];
}

export interface GraphSignature {
  readonly inputs: readonly GraphValue[];
  readonly outputs: readonly GraphValue[];
}

/** What the uploader says the model reads and answers, in the trainer's convention. */
export interface DeclaredSignature {
  readonly inputs: readonly {
    readonly name: string;
    readonly dtype: 'float32' | 'string';
    readonly features: readonly string[];
  }[];
  readonly outputName: string;
}

/** One way the graph differs from the declaration. */
export interface SignatureMismatch {
  readonly path: string;
  readonly problem: string;
}

/**
 * Checks a graph against a declared signature: one float32 input [batch, k] carrying the k numeric features, one
 * string input [batch, 1] per categorical feature, no other input, each feature once, and a float32 score output.
 */
export function checkSignature(graph: GraphSignature, declared: DeclaredSignature): SignatureMismatch[] {
  const problems: SignatureMismatch[] = [];
  const numeric = declared.inputs.filter((input) => input.dtype === 'float32');
  if (numeric.length !== 1) {
    problems.push({
      path: 'signature.inputs',
      problem: `declares ${numeric.length} float32 inputs; exactly one carries the numeric features`,
    });
  }
  const seen = new Set<string>();
  for (const [i, input] of declared.inputs.entries()) {
    for (const feature of input.features) {
      if (seen.has(feature))
        problems.push({ path: `signature.inputs[${i}]`, problem: `feature ${feature} is declared twice` });
      seen.add(feature);
    }
    if (input.dtype === 'string' && input.features.length !== 1) {
      problems.push({
        path: `signature.inputs[${i}]`,
        problem: `string input ${input.name} must carry exactly one feature`,
      });
    }
    const actual = graph.inputs.find((value) => value.name === input.name);
    if (!actual) {
      problems.push({
        path: `signature.inputs[${i}]`,
        problem: `the model has no input ${input.name} (it has ${graph.inputs.map((v) => v.name).join(', ') || 'none'})`,
      });
      continue;
    }
    if (actual.type !== input.dtype) {
      problems.push({
        path: `signature.inputs[${i}]`,
        problem: `input ${input.name} is ${actual.type ?? 'not a tensor'}, declared ${input.dtype}`,
      });
    }
    const width = actual.shape[1];
    if (actual.shape.length !== 2 || width !== input.features.length) {
      problems.push({
        path: `signature.inputs[${i}]`,
        problem: `input ${input.name} has shape [${actual.shape.join(', ')}], declared [batch, ${input.features.length}]`,
      });
    }
  }
  for (const value of graph.inputs) {
    if (!declared.inputs.some((input) => input.name === value.name)) {
      problems.push({
        path: 'signature.inputs',
        problem: `the model reads input ${value.name}, which is not declared`,
      });
    }
  }
  const score = graph.outputs.find((value) => value.name === declared.outputName);
  if (!score) {
    problems.push({
      path: 'signature.outputName',
      problem: `the model has no output ${declared.outputName} (it has ${graph.outputs.map((v) => v.name).join(', ') || 'none'})`,
    });
  } else if (score.type !== 'float32') {
    problems.push({
      path: 'signature.outputName',
      problem: `output ${declared.outputName} is ${score.type ?? 'not a tensor'}, must be float32`,
    });
  }
  return problems;
}
