import { ProtoWriter } from './protobuf';

/** The parts of onnx.proto (field numbers of onnx/onnx.proto, IR version 8) the exporter writes. */
export const TensorType = { FLOAT: 1, INT64: 7, STRING: 8 } as const;
export type TensorTypeCode = (typeof TensorType)[keyof typeof TensorType];

export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'strings'; readonly value: readonly string[] };

export interface OnnxNode {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly (readonly [string, AttributeValue])[];
}

export interface OnnxInitializer {
  readonly name: string;
  readonly type: typeof TensorType.FLOAT | typeof TensorType.INT64;
  readonly dims: readonly number[];
  readonly values: readonly number[];
}

export interface OnnxValueInfo {
  readonly name: string;
  readonly type: TensorTypeCode;
  /** A string is a symbolic dimension (the batch), a number a fixed one. */
  readonly shape: readonly (number | string)[];
}

export interface OnnxModel {
  readonly graphName: string;
  readonly producerVersion: string;
  readonly opsets: readonly (readonly [string, number])[];
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxInitializer[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly metadata: readonly (readonly [string, string])[];
}

const IR_VERSION = 8;
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7, strings: 8 } as const;

export function encodeModel(model: OnnxModel): Uint8Array {
  const writer = new ProtoWriter().int(1, IR_VERSION).string(2, 'mlops-trainer').string(3, model.producerVersion);
  writer.message(7, (graph) => {
    for (const node of model.nodes) graph.message(1, (w) => writeNode(w, node));
    graph.string(2, model.graphName);
    for (const initializer of model.initializers) graph.message(5, (w) => writeInitializer(w, initializer));
    for (const input of model.inputs) graph.message(11, (w) => writeValueInfo(w, input));
    for (const output of model.outputs) graph.message(12, (w) => writeValueInfo(w, output));
  });
  for (const [domain, version] of model.opsets) writer.message(8, (w) => w.string(1, domain).int(2, version));
  for (const [key, value] of model.metadata) writer.message(14, (w) => w.string(1, key).string(2, value));
  return writer.finish();
}

function writeNode(writer: ProtoWriter, node: OnnxNode): void {
  for (const input of node.inputs) writer.string(1, input);
  for (const output of node.outputs) writer.string(2, output);
  writer.string(3, node.name).string(4, node.opType);
  for (const [name, attribute] of node.attributes) writer.message(5, (w) => writeAttribute(w, name, attribute));
  if (node.domain !== '') writer.string(7, node.domain);
}

function writeAttribute(writer: ProtoWriter, name: string, attribute: AttributeValue): void {
  writer.string(1, name);
  switch (attribute.kind) {
    case 'float':
      writer.float(2, attribute.value);
      break;
    case 'int':
      writer.int(3, attribute.value);
      break;
    case 'string':
      writer.string(4, attribute.value);
      break;
    case 'floats':
      writer.packedFloats(7, attribute.value);
      break;
    case 'ints':
      writer.packedInts(8, attribute.value);
      break;
    case 'strings':
      for (const value of attribute.value) writer.string(9, value);
      break;
  }
  writer.int(20, ATTRIBUTE_TYPE[attribute.kind]);
}

function writeInitializer(writer: ProtoWriter, initializer: OnnxInitializer): void {
  writer.packedInts(1, initializer.dims).int(2, initializer.type).string(8, initializer.name);
  const raw =
    initializer.type === TensorType.FLOAT
      ? new Uint8Array(Float32Array.from(initializer.values).buffer)
      : new Uint8Array(BigInt64Array.from(initializer.values, (value) => BigInt(value)).buffer);
  writer.bytes(9, raw);
}

function writeValueInfo(writer: ProtoWriter, info: OnnxValueInfo): void {
  writer.string(1, info.name);
  writer.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, info.type);
      tensor.message(2, (shape) => {
        for (const dim of info.shape)
          shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
      });
    }),
  );
}
