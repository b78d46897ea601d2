import * as ort from 'onnxruntime-node';
import { ONNX_SESSION_OPTIONS } from '@mlops/ml';
import type { GraphSignature, GraphValue } from '../domain/signature-check';

/** Why bytes are not a loadable model. */
export class UnloadableModelError extends Error {
  override readonly name = 'UnloadableModelError';
}

function valueOf(metadata: ort.InferenceSession.ValueMetadata): GraphValue {
  return metadata.isTensor
    ? { name: metadata.name, type: metadata.type, shape: [...metadata.shape] }
    : { name: metadata.name, type: null, shape: [] };
}

/** Loads a model with ONNX Runtime (one intra-op thread) and reads its inputs and outputs; nothing is run. */
export async function inspectOnnx(bytes: Uint8Array): Promise<GraphSignature> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, ONNX_SESSION_OPTIONS);
  } catch (error) {
    throw new UnloadableModelError((error as Error).message.slice(0, 500));
  }
  try {
    return { inputs: session.inputMetadata.map(valueOf), outputs: session.outputMetadata.map(valueOf) };
  } finally {
    await session.release();
  }
}

/** An ONNX file is a protobuf ModelProto whose first field is ir_version (field 1, varint): byte 0x08. */
export function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x08;
}
