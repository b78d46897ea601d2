import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { EncodedRows, RowOutput } from './rows';
import type { ServingSignature } from './signature';

/** An input tensor of an Open Inference Protocol v2 request (KServe). */
export interface InferInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: string;
  readonly data: unknown;
}

/** An output tensor of an OIP v2 response. */
export interface InferOutput {
  name: string;
  shape: number[];
  datatype: string;
  data: (number | string)[];
}

export type TensorError = DomainError<'malformed_tensor'>;

const NUMERIC_TYPES = new Set([
  'FP32',
  'FP64',
  'FP16',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
]);

/** The tensors of a model's inputs as the protocol describes them (GET /v2/models/{name}). */
export function inputTensorsOf(signature: ServingSignature): { name: string; datatype: string; shape: number[] }[] {
  return [
    {
      name: signature.numericInput,
      datatype: dtypeName(signature.numericDtype),
      shape: [-1, signature.numericFeatures.length],
    },
    ...signature.categoricalFeatures.map((name) => ({ name, datatype: 'BYTES', shape: [-1, 1] })),
  ];
}

export function outputTensorsOf(signature: ServingSignature): { name: string; datatype: string; shape: number[] }[] {
  const outputs = [{ name: signature.scoreOutput, datatype: 'FP32', shape: [-1, 1] }];
  if (signature.labelOutput) outputs.push({ name: signature.labelOutput, datatype: 'INT64', shape: [-1] });
  if (signature.probabilitiesOutput)
    outputs.push({ name: signature.probabilitiesOutput, datatype: 'FP32', shape: [-1, -1] });
  return outputs;
}

/**
 * Reads request tensors into the model's layout: every input of the model exactly once, shapes that agree with the
 * data and each other, numbers for numeric tensors, strings for BYTES (row-major, flat or nested as the protocol
 * allows). Everything else is a `malformed_tensor`, named precisely.
 */
export function decodeInputs(
  signature: ServingSignature,
  inputs: readonly InferInput[],
): Result<EncodedRows, TensorError> {
  const bad = (message: string, details?: unknown): Result<EncodedRows, TensorError> =>
    err(domainError('malformed_tensor', message, details));
  const expected = new Set([signature.numericInput, ...signature.categoricalFeatures]);
  const seen = new Set<string>();
  for (const input of inputs) {
    if (!expected.has(input.name))
      return bad(`unknown input "${input.name}"; the model takes ${[...expected].map((n) => `"${n}"`).join(', ')}`);
    if (seen.has(input.name)) return bad(`input "${input.name}" is given twice`);
    seen.add(input.name);
  }
  for (const name of expected) if (!seen.has(name)) return bad(`input "${name}" is missing`);
  let rows: number | undefined;
  let numeric: Float32Array | Float64Array | undefined;
  const categorical: Record<string, string[]> = {};
  for (const input of inputs) {
    if (input.shape.some((dim) => !Number.isInteger(dim) || dim < 0))
      return bad(`input "${input.name}": shape [${input.shape.join(', ')}] must be non-negative integers`);
    const flat = flatten(input.data);
    if (flat === null) return bad(`input "${input.name}": data must be an array (flat or nested, row-major)`);
    const size = input.shape.reduce((product, dim) => product * dim, 1);
    if (flat.length !== size)
      return bad(
        `input "${input.name}": shape [${input.shape.join(', ')}] holds ${size} values, data has ${flat.length}`,
      );
    const count = input.shape[0] ?? 0;
    if (rows !== undefined && count !== rows)
      return bad(`input "${input.name}" has ${count} rows, another input has ${rows}`);
    rows = count;
    if (input.name === signature.numericInput) {
      const width = signature.numericFeatures.length;
      if (input.shape.length !== 2 || input.shape[1] !== width)
        return bad(`input "${input.name}": shape must be [rows, ${width}], got [${input.shape.join(', ')}]`);
      if (!NUMERIC_TYPES.has(input.datatype))
        return bad(
          `input "${input.name}": datatype must be ${dtypeName(signature.numericDtype)}, got ${input.datatype}`,
        );
      const values =
        signature.numericDtype === 'float64' ? new Float64Array(flat.length) : new Float32Array(flat.length);
      for (let i = 0; i < flat.length; i++) {
        const value = flat[i];
        if (typeof value !== 'number' && value !== null)
          return bad(`input "${input.name}": value ${i} is ${JSON.stringify(value)}, not a number`);
        values[i] = value === null ? Number.NaN : value;
      }
      numeric = values;
    } else {
      if (input.datatype !== 'BYTES')
        return bad(`input "${input.name}": datatype must be BYTES, got ${input.datatype}`);
      if (!(input.shape.length === 2 && input.shape[1] === 1) && input.shape.length !== 1)
        return bad(`input "${input.name}": shape must be [rows, 1], got [${input.shape.join(', ')}]`);
      const values: string[] = [];
      for (let i = 0; i < flat.length; i++) {
        const value = flat[i];
        if (typeof value !== 'string' && value !== null)
          return bad(`input "${input.name}": value ${i} is ${JSON.stringify(value)}, not a string`);
        values.push(value ?? '');
      }
      categorical[input.name] = values;
    }
  }
  const count = rows ?? 0;
  if (count === 0) return bad('the request has no rows');
  const values = numeric as Float32Array | Float64Array;
  const width = signature.numericFeatures.length;
  const missing: string[][] = [];
  for (let row = 0; row < count; row++) {
    const names: string[] = [];
    signature.numericFeatures.forEach((name, column) => {
      if (Number.isNaN(values[row * width + column] as number)) names.push(name);
    });
    for (const name of signature.categoricalFeatures) if (categorical[name]?.[row] === '') names.push(name);
    missing.push(names);
  }
  return ok({ rows: count, numeric: values, categorical, missing });
}

/** The response tensors of the scored rows: all outputs, or those the request names (unknown names refused). */
export function encodeOutputs(
  signature: ServingSignature,
  outputs: readonly RowOutput[],
  requested: readonly string[] | undefined,
): Result<InferOutput[], TensorError> {
  const rows = outputs.length;
  const available: Record<string, () => InferOutput> = {
    [signature.scoreOutput]: () => ({
      name: signature.scoreOutput,
      shape: [rows, 1],
      datatype: 'FP32',
      data: outputs.map((output) => output.score),
    }),
  };
  if (signature.labelOutput)
    available[signature.labelOutput] = () => ({
      name: signature.labelOutput as string,
      shape: [rows],
      datatype: 'INT64',
      data: outputs.map((output) => output.label ?? 0),
    });
  if (signature.probabilitiesOutput) {
    const classes = outputs[0]?.probabilities?.length ?? 0;
    available[signature.probabilitiesOutput] = () => ({
      name: signature.probabilitiesOutput as string,
      shape: [rows, classes],
      datatype: 'FP32',
      data: outputs.flatMap((output) => [...(output.probabilities ?? [])]),
    });
  }
  const names = requested ?? Object.keys(available);
  const result: InferOutput[] = [];
  for (const name of names) {
    const make = available[name];
    if (!make)
      return err(
        domainError(
          'malformed_tensor',
          `unknown output "${name}"; the model gives ${Object.keys(available)
            .map((n) => `"${n}"`)
            .join(', ')}`,
        ),
      );
    result.push(make());
  }
  return ok(result);
}

function dtypeName(dtype: 'float32' | 'float64'): string {
  return dtype === 'float64' ? 'FP64' : 'FP32';
}

/** Row-major values of flat or nested arrays; null when the data is not an array. */
function flatten(data: unknown): unknown[] | null {
  if (!Array.isArray(data)) return null;
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else out.push(value);
  };
  walk(data);
  return out;
}
