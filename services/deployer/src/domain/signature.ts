import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';

/** A feature value as the feature store and requests carry it. */
export type FeatureValue = number | string | boolean | null;
export type FeatureVector = Readonly<Record<string, FeatureValue>>;

/** The signature a promotion announces (mlops.model.promoted.v1 `signature`). */
export interface PromotedSignature {
  readonly inputName: string;
  readonly inputDtype: 'float32' | 'float64';
  readonly featureNames: readonly string[];
  readonly outputName: string;
}

/** An input or output of the ONNX graph as the runtime describes it. */
export interface GraphValue {
  readonly name: string;
  /** Element type ('float32', 'string', 'int64', ...), or null for a non-tensor value. */
  readonly type: string | null;
  readonly shape: readonly (number | string)[];
}

/**
 * How the deployer calls a loaded model: the numeric features as one [batch, n] tensor, each categorical feature as
 * a string tensor [batch, 1] named after it (libs/ml's export), the score and, for binary models, label and
 * probabilities.
 */
export interface ServingSignature {
  readonly numericInput: string;
  readonly numericDtype: 'float32' | 'float64';
  readonly numericFeatures: readonly string[];
  readonly categoricalFeatures: readonly string[];
  readonly scoreOutput: string;
  readonly labelOutput: string | null;
  readonly probabilitiesOutput: string | null;
}

export type SignatureError = DomainError<'signature_mismatch'>;

const LABEL_OUTPUT = 'label';
const PROBABILITIES_OUTPUT = 'probabilities';

/** Checks the announced signature against the graph the artifact really holds. */
export function servingSignatureOf(
  promoted: PromotedSignature,
  inputs: readonly GraphValue[],
  outputs: readonly GraphValue[],
): Result<ServingSignature, SignatureError> {
  const mismatch = (message: string): Result<ServingSignature, SignatureError> =>
    err(domainError('signature_mismatch', message));
  const numeric = inputs.find((input) => input.name === promoted.inputName);
  if (!numeric) return mismatch(`the graph has no input "${promoted.inputName}" (it has ${names(inputs)})`);
  if (numeric.type !== promoted.inputDtype)
    return mismatch(
      `input "${numeric.name}" is ${numeric.type ?? 'not a tensor'}, the signature says ${promoted.inputDtype}`,
    );
  const width = numeric.shape[1];
  if (numeric.shape.length !== 2 || (typeof width === 'number' && width !== promoted.featureNames.length))
    return mismatch(
      `input "${numeric.name}" has shape [${numeric.shape.join(', ')}], the signature names ${promoted.featureNames.length} features`,
    );
  const categorical: string[] = [];
  for (const input of inputs) {
    if (input.name === promoted.inputName) continue;
    if (input.type !== 'string')
      return mismatch(
        `input "${input.name}" is ${input.type ?? 'not a tensor'}; only string inputs may follow the numeric one`,
      );
    if (promoted.featureNames.includes(input.name))
      return mismatch(`feature "${input.name}" is both numeric and categorical`);
    categorical.push(input.name);
  }
  const score = outputs.find((output) => output.name === promoted.outputName);
  if (!score) return mismatch(`the graph has no output "${promoted.outputName}" (it has ${names(outputs)})`);
  if (score.type !== 'float32' && score.type !== 'float64')
    return mismatch(`output "${score.name}" is ${score.type ?? 'not a tensor'}, not a float tensor`);
  const label = outputs.find((output) => output.name === LABEL_OUTPUT && output.name !== promoted.outputName);
  const probabilities = outputs.find(
    (output) => output.name === PROBABILITIES_OUTPUT && output.name !== promoted.outputName,
  );
  return ok({
    numericInput: promoted.inputName,
    numericDtype: promoted.inputDtype,
    numericFeatures: [...promoted.featureNames],
    categoricalFeatures: categorical,
    scoreOutput: promoted.outputName,
    labelOutput: label ? label.name : null,
    probabilitiesOutput: probabilities ? probabilities.name : null,
  });
}

/** Every feature the model reads, numeric first. */
export function featuresOf(signature: ServingSignature): string[] {
  return [...signature.numericFeatures, ...signature.categoricalFeatures];
}

function names(values: readonly GraphValue[]): string {
  return values.map((value) => `"${value.name}"`).join(', ') || 'none';
}
