/**
 * The runtime's in-memory view of Open Inference Protocol tensors and requests, shared by the
 * JSON and binary codecs, the validator, the scheduler and the workers.
 */

/** Tensor datatypes of the Open Inference Protocol that onnxruntime-node can run (BF16 it cannot). */
export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'INT8'
  | 'UINT16'
  | 'INT16'
  | 'UINT32'
  | 'INT32'
  | 'UINT64'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/**
 * Element storage per datatype, in the layout onnxruntime-node's Tensor takes:
 * BOOL → Uint8Array (0/1), FP16 → Uint16Array (IEEE half bits), INT64 → BigInt64Array,
 * UINT64 → BigUint64Array, BYTES → string[] (UTF-8), the rest → the matching typed array.
 */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | string[];

export interface Tensor {
  name: string;
  datatype: Datatype;
  /** Concrete dimensions, row-major. A scalar has shape []. */
  shape: number[];
  data: TensorData;
}

/** An input or output as the model declares it. -1 marks a dynamic dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /**
   * Graph inputs that have an initializer (a default value): onnxruntime-node neither lists nor
   * takes them, so a request that supplies one is refused rather than silently ignored.
   */
  defaultedInputs?: string[];
}

/** Request parameter values the protocol allows. */
export type ParameterValue = string | number | boolean;
export type Parameters = Record<string, ParameterValue>;

export interface RequestedOutput {
  name: string;
  /** `parameters.binary_data` of this output, when the client set it. */
  binaryData?: boolean;
  parameters?: Parameters;
}

/** A decoded and validated inference request: every input matches the model's signature. */
export interface InferRequest {
  id?: string;
  parameters: Parameters;
  inputs: Tensor[];
  /** The outputs the client asked for, or undefined for "all outputs". */
  outputs?: RequestedOutput[];
}

export interface InferResponse {
  modelName: string;
  modelVersion: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}
