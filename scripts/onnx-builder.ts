/**
 * Small typed helpers to write ONNX models with onnx-proto (protobuf classes of onnx.proto):
 * value infos with symbolic dimensions, initializers, nodes, and the model envelope.
 * Output is deterministic: no timestamps, no random ids.
 */
import { onnx } from 'onnx-proto';

export const IR_VERSION = 8;
export const OPSET = 17;

export type ElemType = 'float' | 'float16' | 'double' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'string';

export const ELEM: Record<ElemType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  uint16: onnx.TensorProto.DataType.UINT16,
  int16: onnx.TensorProto.DataType.INT16,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  string: onnx.TensorProto.DataType.STRING,
  bool: onnx.TensorProto.DataType.BOOL,
  float16: onnx.TensorProto.DataType.FLOAT16,
  double: onnx.TensorProto.DataType.DOUBLE,
  uint32: onnx.TensorProto.DataType.UINT32,
  uint64: onnx.TensorProto.DataType.UINT64,
};

/** A dimension: a fixed size, or a symbolic name (dynamic). */
export type Dim = number | string;

export function valueInfo(name: string, elem: ElemType, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A sequence of maps, as scikit-learn classifiers converted with ZipMap declare their probabilities. */
export function seqMapValueInfo(name: string, key: ElemType, value: ElemType): onnx.IValueInfoProto {
  return { name, type: { sequenceType: { elemType: { mapType: { keyType: ELEM[key], valueType: { tensorType: { elemType: ELEM[value] } } } } } } };
}

/** A float initializer whose data lives in a file beside the model (how models over 2 GB are stored). */
export function externalFloatTensor(name: string, dims: number[], location: string, offset: number, length: number): onnx.ITensorProto {
  return {
    name,
    dataType: ELEM.float,
    dims,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto {
  return { name, dataType: ELEM.float, dims, floatData: Array.from(values, (v) => Math.fround(v)) };
}

export function int64Tensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  return { name, dataType: ELEM.int64, dims, int64Data: values };
}

type AttrValue = number | number[] | string | { int: number };

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value };
  if (typeof value === 'object') return { name, type: onnx.AttributeProto.AttributeType.INT, i: value.int };
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name: `${opType}_${outputs[0]}`, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)), ...(domain ? { domain } : {}) };
}

export interface GraphSpec {
  name: string;
  inputs: onnx.IValueInfoProto[];
  outputs: onnx.IValueInfoProto[];
  nodes: onnx.INodeProto[];
  initializers?: onnx.ITensorProto[];
  metadata?: Record<string, string>;
  docString?: string;
  /** Operator sets beyond ai.onnx OPSET (e.g. ai.onnx.ml for ZipMap). */
  extraOpsets?: Array<{ domain: string; version: number }>;
  /** The ai.onnx opset the model is stamped with (default OPSET). */
  opset?: number;
}

export function model(spec: GraphSpec): Buffer {
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'onnx-fleet',
    producerVersion: '1',
    docString: spec.docString ?? '',
    opsetImport: [{ domain: '', version: spec.opset ?? OPSET }, ...(spec.extraOpsets ?? [])],
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: { name: spec.name, node: spec.nodes, input: spec.inputs, output: spec.outputs, initializer: spec.initializers ?? [] },
  });
  return Buffer.from(onnx.ModelProto.encode(proto).finish());
}
