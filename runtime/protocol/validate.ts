/**
 * Structural validation of an inference request header (the parsed JSON) against the model's
 * signature: field types, input and output names, datatypes, shapes and batch limits, and the
 * binary extension's per-input parameters. Data elements are checked by the codecs.
 */
import { invalidArgument } from '../errors';
import { DATATYPES, MAX_ELEMENTS, describe, elementCount, formatShape, isDatatype } from './datatypes';
import type { ModelSignature, Parameters, RequestedOutput, TensorSpec } from './types';

/** The request parameter `timeout` (µs), Triton's per-request queue timeout; undefined when absent or 0. */
export function requestTimeoutUs(request: { parameters: Parameters }): number | undefined {
  const t = request.parameters.timeout;
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
    throw invalidArgument(`parameter 'timeout': expected a non-negative integer number of microseconds, got ${JSON.stringify(t)}`);
  }
  return t === 0 ? undefined : t;
}

export interface ValidatedInput {
  spec: TensorSpec;
  shape: number[];
  count: number;
  /** The JSON `data`, when the input carries it. */
  data?: unknown;
  /** `parameters.binary_data_size`, when the input's data is in the binary part. */
  binaryDataSize?: number;
}

export interface ValidatedHeader {
  id?: string;
  parameters: Parameters;
  /** In request order (the order binary parts follow). */
  inputs: ValidatedInput[];
  outputs?: RequestedOutput[];
}

const has = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeSpecs(specs: readonly TensorSpec[]): string {
  return specs.length === 0 ? '(none)' : specs.map((s) => `'${s.name}' (${s.datatype} ${formatShape(s.shape)})`).join(', ');
}

/** A `parameters` object: string, number or boolean values only. */
export function validateParameters(where: string, value: unknown): Parameters {
  if (value === undefined) return {};
  if (!isObject(value)) throw invalidArgument(`${where} parameters must be an object, got ${describe(value)}`);
  const out: Parameters = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    let p: string | number | boolean;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') p = v;
    else if (typeof v === 'bigint') p = Number(v);
    else throw invalidArgument(`${where} parameter '${key}' must be a string, number or boolean, got ${describe(v)}`);
    if (key === '__proto__') Object.defineProperty(out, key, { value: p, writable: true, enumerable: true, configurable: true });
    else out[key] = p;
  }
  return out;
}

/**
 * Check a requested shape against the model's: rank, fixed dimensions, and the batch dimension
 * against max_batch_size. Returns the shape as numbers and its element count.
 */
export function validateShape(name: string, shape: unknown, spec: TensorSpec, maxBatchSize: number): { shape: number[]; count: number } {
  if (!Array.isArray(shape)) throw invalidArgument(`input '${name}': shape must be an array of non-negative integers, got ${describe(shape)}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_ELEMENTS) {
      throw invalidArgument(`input '${name}': shape ${formatShape(shape)} has an invalid dimension ${typeof d === 'number' || typeof d === 'bigint' ? String(d) : describe(d)} (expected non-negative integers up to 2^31)`);
    }
  }
  const dims = shape as number[];
  const model = spec.shape;
  if (dims.length !== model.length) {
    throw invalidArgument(`input '${name}': shape ${formatShape(dims)} has rank ${dims.length}, but the model's ${formatShape(model)} has rank ${model.length}`);
  }
  for (let i = 0; i < dims.length; i++) {
    if (model[i] >= 0 && dims[i] !== model[i]) {
      throw invalidArgument(`input '${name}': shape ${formatShape(dims)} does not match the model's ${formatShape(model)} (dimension ${i} must be ${model[i]})`);
    }
  }
  if (maxBatchSize > 0 && model.length > 0 && model[0] < 0) {
    if (dims[0] < 1) throw invalidArgument(`input '${name}': batch size ${dims[0]} in shape ${formatShape(dims)} must be at least 1 (the model's max_batch_size is ${maxBatchSize})`);
    if (dims[0] > maxBatchSize) throw invalidArgument(`input '${name}': batch size ${dims[0]} in shape ${formatShape(dims)} exceeds the model's max_batch_size ${maxBatchSize}`);
  }
  return { shape: dims.slice(), count: elementCount(name, dims) };
}

function optionalBoolean(where: string, params: Parameters, key: string): boolean | undefined {
  const v = params[key];
  if (v === undefined || !has(params, key)) return undefined;
  if (typeof v !== 'boolean') throw invalidArgument(`${where} parameter '${key}' must be a boolean, got ${describe(v)}`);
  return v;
}

/** Validate a parsed request header against the signature. */
export function validateHeader(doc: unknown, signature: ModelSignature, maxBatchSize: number): ValidatedHeader {
  if (!isObject(doc)) throw invalidArgument(`the request body must be a JSON object with an 'inputs' array, got ${describe(doc)}`);
  let id: string | undefined;
  if (has(doc, 'id')) {
    if (typeof doc.id !== 'string') throw invalidArgument(`request 'id' must be a string, got ${describe(doc.id)}`);
    id = doc.id;
  }
  const parameters = validateParameters('request', has(doc, 'parameters') ? doc.parameters : undefined);
  optionalBoolean('request', parameters, 'binary_data_output');

  const specs = new Map(signature.inputs.map((s) => [s.name, s]));
  const rawInputs = has(doc, 'inputs') ? doc.inputs : undefined;
  if (!Array.isArray(rawInputs)) {
    throw invalidArgument(`the request needs an 'inputs' array, got ${describe(rawInputs)}; model inputs are: ${describeSpecs(signature.inputs)}`);
  }
  const seen = new Set<string>();
  const inputs: ValidatedInput[] = [];
  rawInputs.forEach((raw, index) => {
    if (!isObject(raw)) throw invalidArgument(`inputs[${index}] must be an object with name, datatype, shape and data, got ${describe(raw)}`);
    const name = has(raw, 'name') ? raw.name : undefined;
    if (typeof name !== 'string') throw invalidArgument(`inputs[${index}].name must be a string, got ${describe(name)}`);
    const spec = specs.get(name);
    if (spec === undefined && signature.defaultedInputs?.includes(name)) {
      throw invalidArgument(`input '${name}' has a fixed default value in the model (an initializer) that onnxruntime-node does not let a request override; leave it out, or export the model with '${name}' as a plain input. Model inputs are: ${describeSpecs(signature.inputs)}`);
    }
    if (spec === undefined) throw invalidArgument(`unknown input '${name}'; model inputs are: ${describeSpecs(signature.inputs)}`);
    if (seen.has(name)) throw invalidArgument(`input '${name}' appears more than once; model inputs are: ${describeSpecs(signature.inputs)}`);
    seen.add(name);
    const datatype = has(raw, 'datatype') ? raw.datatype : undefined;
    if (!isDatatype(datatype)) {
      throw invalidArgument(`input '${name}': expected datatype ${spec.datatype}, got ${typeof datatype === 'string' ? `'${datatype}', which is not one of ${DATATYPES.join(', ')}` : describe(datatype)}`);
    }
    if (datatype !== spec.datatype) throw invalidArgument(`input '${name}': expected datatype ${spec.datatype}, got ${datatype}`);
    const { shape, count } = validateShape(name, has(raw, 'shape') ? raw.shape : undefined, spec, maxBatchSize);
    const params = validateParameters(`input '${name}'`, has(raw, 'parameters') ? raw.parameters : undefined);
    const hasData = has(raw, 'data');
    let binaryDataSize: number | undefined;
    if (has(params, 'binary_data_size')) {
      const size = params.binary_data_size;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw invalidArgument(`input '${name}': parameters.binary_data_size must be a non-negative integer, got ${describe(size)}`);
      }
      if (hasData) throw invalidArgument(`input '${name}' has both 'data' and parameters.binary_data_size; send its data one way`);
      binaryDataSize = size;
    } else if (!hasData) {
      throw invalidArgument(`input '${name}' has no 'data' (and no parameters.binary_data_size)`);
    }
    inputs.push({ spec, shape, count, data: hasData ? raw.data : undefined, binaryDataSize });
  });
  const missing = signature.inputs.filter((s) => !seen.has(s.name));
  if (missing.length > 0) {
    throw invalidArgument(`missing input${missing.length > 1 ? 's' : ''} ${missing.map((s) => `'${s.name}'`).join(', ')}; model inputs are: ${describeSpecs(signature.inputs)}`);
  }

  let outputs: RequestedOutput[] | undefined;
  if (has(doc, 'outputs') && doc.outputs !== undefined) {
    const rawOutputs = doc.outputs;
    if (!Array.isArray(rawOutputs)) throw invalidArgument(`request 'outputs' must be an array, got ${describe(rawOutputs)}`);
    const known = new Set(signature.outputs.map((s) => s.name));
    const names = new Set<string>();
    outputs = rawOutputs.map((raw, index) => {
      if (!isObject(raw)) throw invalidArgument(`outputs[${index}] must be an object with a name, got ${describe(raw)}`);
      const name = has(raw, 'name') ? raw.name : undefined;
      if (typeof name !== 'string') throw invalidArgument(`outputs[${index}].name must be a string, got ${describe(name)}`);
      if (!known.has(name)) throw invalidArgument(`unknown output '${name}' requested; model outputs are: ${describeSpecs(signature.outputs)}`);
      if (names.has(name)) throw invalidArgument(`output '${name}' is requested more than once`);
      names.add(name);
      const params = validateParameters(`output '${name}'`, has(raw, 'parameters') ? raw.parameters : undefined);
      const binaryData = optionalBoolean(`output '${name}'`, params, 'binary_data');
      const out: RequestedOutput = { name };
      if (binaryData !== undefined) out.binaryData = binaryData;
      if (Object.keys(params).length > 0) out.parameters = params;
      return out;
    });
  }
  return { id, parameters, inputs, outputs };
}
