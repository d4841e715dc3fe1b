/**
 * onnxruntime-node's element type names ↔ Open Inference Protocol datatypes, and the model
 * signature read from a session's metadata (symbolic dimensions become -1).
 */
import type { Datatype, ModelSignature, TensorSpec } from '../protocol/types';
import type { WireValueMetadata } from '../workers/messages';

const ORT_TO_DATATYPE: Record<string, Datatype> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  int8: 'INT8',
  uint16: 'UINT16',
  int16: 'INT16',
  uint32: 'UINT32',
  int32: 'INT32',
  uint64: 'UINT64',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

const DATATYPE_TO_ORT = Object.fromEntries(Object.entries(ORT_TO_DATATYPE).map(([o, d]) => [d, o])) as Record<Datatype, string>;

export function ortTypeOf(datatype: Datatype): string {
  return DATATYPE_TO_ORT[datatype];
}

export function datatypeOfOrt(type: string): Datatype | undefined {
  return ORT_TO_DATATYPE[type];
}

function toSpec(m: WireValueMetadata, role: 'input' | 'output'): TensorSpec {
  if (!m.isTensor || !m.type) throw new Error(`${role} '${m.name}' is not a tensor; only tensor inputs and outputs can be served`);
  const datatype = datatypeOfOrt(m.type);
  if (!datatype) {
    throw new Error(`${role} '${m.name}' has element type ${m.type}, which the Open Inference Protocol cannot carry; supported: ${Object.keys(ORT_TO_DATATYPE).join(', ')}`);
  }
  return { name: m.name, datatype, shape: (m.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

export function signatureFromMetadata(inputs: WireValueMetadata[], outputs: WireValueMetadata[], defaultedInputs: string[] = []): ModelSignature {
  const signature: ModelSignature = { inputs: inputs.map((m) => toSpec(m, 'input')), outputs: outputs.map((m) => toSpec(m, 'output')) };
  if (defaultedInputs.length > 0) signature.defaultedInputs = defaultedInputs;
  return signature;
}
