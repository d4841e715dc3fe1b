/**
 * The protocol codec the HTTP routes call: request bodies (JSON, or JSON header + binary tensors
 * per the binary tensor extension, or a raw binary tensor) in, validated `InferRequest` out; and
 * `InferResponse` out as JSON or JSON header + binary.
 *
 * Raw binary requests (`Inference-Header-Content-Length: 0`): only for models with exactly one
 * input. The shape is the model's with a dynamic batch dimension set to 1 (for a non-batching
 * model: the first dimension set to 1 only when it is dynamic and another dimension is too); at
 * most one dynamic dimension may remain, and it is inferred from the number of elements in the
 * body. All outputs come back binary (`binary_data_output` is set on the decoded request).
 *
 * Element-level decisions (BOOL, 64-bit integers, non-finite floats) are in json-codec.ts.
 */
import { InferenceError, invalidArgument } from '../errors';
import { countBytesElements, decodeBinaryData, encodeBinaryData } from './binary-codec';
import { MAX_ELEMENTS, elementSize, formatShape } from './datatypes';
import { decodeJsonData, encodeJsonData, parseRequestJson } from './json-codec';
import type { InferRequest, InferResponse, ModelSignature, RequestedOutput, Tensor, TensorSpec } from './types';
import { ValidatedHeader, describeSpecs, validateHeader, validateShape } from './validate';

export interface DecodeOptions {
  /** Model's max batch size (0 = model does not batch: shapes must match the declared ones exactly, -1 dims free). */
  maxBatchSize: number;
}

export interface EncodedResponse {
  body: Buffer;
  contentType: string;
  headers: Record<string, string>;
}

export const HEADER_LENGTH_HEADER = 'Inference-Header-Content-Length';

const needsExactIntegers = (signature: ModelSignature): boolean => signature.inputs.some((s) => s.datatype === 'INT64' || s.datatype === 'UINT64');

/**
 * The JSON header of a binary request, parsed, validated against the model and checked against
 * the body's size (when known): everything that can be decided before the binary part is read.
 */
export interface BinaryHeader {
  jsonLength: number;
  header: ValidatedHeader;
}

/**
 * Validates a binary request's JSON header (`headerBytes` holds at least `jsonLength` bytes).
 * With `bodyLength` (the declared Content-Length) the inputs' binary_data_size values must
 * account for the rest of the body exactly, so a request whose sizes cannot add up is refused
 * before its binary data arrives.
 */
export function decodeBinaryHeader(headerBytes: Buffer, jsonLength: number, signature: ModelSignature, options: DecodeOptions, bodyLength?: number): BinaryHeader {
  const header = validateHeader(parseRequestJson(headerBytes.toString('utf8', 0, jsonLength), needsExactIntegers(signature)), signature, options.maxBatchSize);
  // Fixed-size tensors must declare exactly their size, and together they must account for the
  // rest of the body.
  for (const { spec, shape, count, binaryDataSize } of header.inputs) {
    if (binaryDataSize === undefined) continue;
    const size = elementSize(spec.datatype);
    if (size > 0 && binaryDataSize !== count * size) {
      throw invalidArgument(`input '${spec.name}': binary_data_size is ${binaryDataSize}, but shape ${formatShape(shape)} of ${spec.datatype} needs ${count * size} bytes`);
    }
  }
  if (bodyLength !== undefined) checkBinaryTotal(header, jsonLength, bodyLength);
  return { jsonLength, header };
}

/** The value of Inference-Header-Content-Length as a number, checked against the body's length when known. */
export function parseHeaderLength(value: string, bodyLength = Number.POSITIVE_INFINITY): number {
  const text = value.trim();
  if (!/^[0-9]{1,15}$/.test(text)) {
    throw invalidArgument(`${HEADER_LENGTH_HEADER} must be a non-negative integer, got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`);
  }
  const n = Number(text);
  if (n > bodyLength) throw invalidArgument(`${HEADER_LENGTH_HEADER} is ${n}, but the request body has only ${bodyLength} bytes`);
  return n;
}

/**
 * Parse + validate a request body. Throws InferenceError('invalid_argument') for anything wrong.
 * `preparsed` is the binary header already validated while the body streamed in (body-reader.ts).
 */
export function decodeInferRequest(body: Buffer, headerLength: string | undefined, signature: ModelSignature, options: DecodeOptions, preparsed?: BinaryHeader): InferRequest {
  const maxBatchSize = options.maxBatchSize;
  if (headerLength === undefined) {
    const header = validateHeader(parseRequestJson(body.toString('utf8'), needsExactIntegers(signature)), signature, maxBatchSize);
    const inputs = header.inputs.map((input): Tensor => {
      const { spec, shape, count } = input;
      if (input.binaryDataSize !== undefined) {
        throw invalidArgument(`input '${spec.name}' has parameters.binary_data_size, but the request has no ${HEADER_LENGTH_HEADER} header to locate binary data`);
      }
      return { name: spec.name, datatype: spec.datatype, shape, data: decodeJsonData(spec.name, spec.datatype, shape, count, input.data) };
    });
    return request(header.id, header.parameters, inputs, header.outputs);
  }

  const jsonLength = parseHeaderLength(headerLength, body.length);
  if (jsonLength === 0) return decodeRawRequest(body, signature, maxBatchSize);

  // The size check runs again on a preparsed header when the body's length was not known then (chunked).
  const reuse = preparsed !== undefined && preparsed.jsonLength === jsonLength;
  const { header } = reuse ? preparsed : decodeBinaryHeader(body, jsonLength, signature, options, body.length);
  if (reuse) checkBinaryTotal(header, jsonLength, body.length);
  let offset = jsonLength;
  const inputs = header.inputs.map((input): Tensor => {
    const { spec, shape, count, binaryDataSize } = input;
    let data;
    if (binaryDataSize === undefined) {
      data = decodeJsonData(spec.name, spec.datatype, shape, count, input.data);
    } else {
      data = decodeBinaryData(spec.name, spec.datatype, shape, count, body.subarray(offset, offset + binaryDataSize));
      offset += binaryDataSize;
    }
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });
  return request(header.id, header.parameters, inputs, header.outputs);
}

/** The binary parts must fill the body after the JSON header exactly. */
function checkBinaryTotal(header: ValidatedHeader, jsonLength: number, bodyLength: number): void {
  let total = 0;
  for (const input of header.inputs) total += input.binaryDataSize ?? 0;
  const available = bodyLength - jsonLength;
  if (total > available) {
    throw invalidArgument(`the inputs' binary_data_size values add up to ${total} bytes, but only ${available} bytes follow the ${jsonLength}-byte JSON header`);
  }
  if (total < available) {
    throw invalidArgument(`${available} bytes follow the ${jsonLength}-byte JSON header, but the inputs' binary_data_size values account for only ${total} (${available - total} extra)`);
  }
}

function request(id: string | undefined, parameters: InferRequest['parameters'], inputs: Tensor[], outputs: RequestedOutput[] | undefined): InferRequest {
  const out: InferRequest = { parameters, inputs };
  if (id !== undefined) out.id = id;
  if (outputs !== undefined) out.outputs = outputs;
  return out;
}

/** A body that is one tensor's bytes, no JSON (`Inference-Header-Content-Length: 0`). */
function decodeRawRequest(body: Buffer, signature: ModelSignature, maxBatchSize: number): InferRequest {
  if (signature.inputs.length !== 1) {
    throw invalidArgument(
      `a raw binary request (${HEADER_LENGTH_HEADER}: 0) needs a model with exactly one input; this model has ${signature.inputs.length}: ${describeSpecs(signature.inputs)}`,
    );
  }
  const spec: TensorSpec = signature.inputs[0];
  const dims = spec.shape.map((d) => (d < 0 ? -1 : d));
  const dynamicCount = () => dims.filter((d) => d === -1).length;
  if (dims.length > 0 && dims[0] === -1 && (maxBatchSize > 0 || dynamicCount() > 1)) dims[0] = 1;
  if (dynamicCount() > 1) {
    throw invalidArgument(
      `input '${spec.name}': a raw binary request can infer at most one dynamic dimension besides the batch, but the model's shape ${formatShape(spec.shape)} has more`,
    );
  }
  const size = elementSize(spec.datatype);
  let elements: number;
  if (size > 0) {
    if (body.length % size !== 0) {
      throw invalidArgument(`input '${spec.name}': a raw binary ${spec.datatype} request must be a multiple of ${size} bytes, got ${body.length}`);
    }
    elements = body.length / size;
  } else {
    elements = countBytesElements(spec.name, body);
  }
  const dyn = dims.indexOf(-1);
  if (dyn >= 0) {
    let rest = 1;
    for (let i = 0; i < dims.length; i++) if (i !== dyn) rest *= dims[i];
    if (rest === 0 || elements % rest !== 0 || elements / rest > MAX_ELEMENTS) {
      throw invalidArgument(
        `input '${spec.name}': a raw binary request of ${elements} ${spec.datatype} elements does not fit the model's shape ${formatShape(spec.shape)} (${rest} elements per step of dimension ${dyn})`,
      );
    }
    dims[dyn] = elements / rest;
  }
  const { shape, count } = validateShape(spec.name, dims, spec, maxBatchSize);
  if (count !== elements) {
    throw invalidArgument(`input '${spec.name}': shape ${formatShape(shape)} needs ${count} elements (${size > 0 ? `${count * size} bytes` : 'BYTES'}), but the raw binary request holds ${elements}`);
  }
  const data = decodeBinaryData(spec.name, spec.datatype, shape, count, body);
  return { parameters: { binary_data_output: true }, inputs: [{ name: spec.name, datatype: spec.datatype, shape, data }] };
}

/**
 * Encode outputs: JSON, or JSON header + binary when requested (per-output binary_data, or
 * request parameter binary_data_output). Applies the `outputs` filter (request.outputs) — the
 * caller passes all model outputs.
 */
export function encodeInferResponse(response: InferResponse, request: InferRequest): EncodedResponse {
  const allBinary = request.parameters.binary_data_output === true;
  let selected: Array<{ tensor: Tensor; binary: boolean }>;
  if (request.outputs === undefined) {
    selected = response.outputs.map((tensor) => ({ tensor, binary: allBinary }));
  } else {
    const byName = new Map(response.outputs.map((t) => [t.name, t]));
    selected = request.outputs.map((r) => {
      const tensor = byName.get(r.name);
      if (tensor === undefined) throw new InferenceError('internal', `the model produced no output '${r.name}'`);
      const own = r.binaryData ?? r.parameters?.binary_data;
      return { tensor, binary: typeof own === 'boolean' ? own : allBinary };
    });
  }

  let json = `{"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)}`;
  if (response.id !== undefined) json += `,"id":${JSON.stringify(response.id)}`;
  if (response.parameters !== undefined && Object.keys(response.parameters).length > 0) json += `,"parameters":${JSON.stringify(response.parameters)}`;
  json += ',"outputs":[';
  const parts: Buffer[] = [];
  selected.forEach(({ tensor, binary }, i) => {
    if (i > 0) json += ',';
    json += `{"name":${JSON.stringify(tensor.name)},"datatype":"${tensor.datatype}","shape":[${tensor.shape.join(',')}]`;
    if (binary) {
      const bytes = encodeBinaryData(tensor);
      parts.push(bytes);
      json += `,"parameters":{"binary_data_size":${bytes.length}}}`;
    } else {
      json += `,"data":${encodeJsonData(tensor)}}`;
    }
  });
  json += ']}';
  if (parts.length === 0) return { body: Buffer.from(json, 'utf8'), contentType: 'application/json', headers: {} };
  const header = Buffer.from(json, 'utf8');
  return {
    body: Buffer.concat([header, ...parts]),
    contentType: 'application/octet-stream',
    headers: { [HEADER_LENGTH_HEADER]: String(header.length) },
  };
}

