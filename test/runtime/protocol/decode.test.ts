import { InferenceError } from '../../../runtime/errors';
import { decodeBinaryData } from '../../../runtime/protocol/binary-codec';
import { alignedBody } from '../../../runtime/protocol/body-reader';
import { decodeInferRequest } from '../../../runtime/protocol/codec';
import type { ModelSignature } from '../../../runtime/protocol/types';
import { IRIS, binaryRequest, json, tensorBytes } from './wire';

const BATCH = { maxBatchSize: 64 };
const NOBATCH = { maxBatchSize: 0 };

function error(fn: () => unknown): InferenceError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InferenceError);
    expect((err as InferenceError).kind).toBe('invalid_argument');
    expect((err as InferenceError).statusCode).toBe(400);
    return err as InferenceError;
  }
  throw new Error('expected an InferenceError');
}
const decodeJson = (doc: unknown, sig: ModelSignature = IRIS, opts = BATCH) => decodeInferRequest(json(doc), undefined, sig, opts);
const jsonError = (doc: unknown, sig: ModelSignature = IRIS, opts = BATCH) => error(() => decodeJson(doc, sig, opts)).message;
const features = (extra: Record<string, unknown> = {}) => ({ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4], ...extra });

describe('JSON requests', () => {
  test('flat and nested data decode to the same tensor; id, parameters and outputs come through', () => {
    const flat = decodeJson({ id: 'a', parameters: { timeout: 5, x: 'y' }, inputs: [features({ shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] })], outputs: [{ name: 'label', parameters: { binary_data: true } }] });
    const nested = decodeJson({ inputs: [features({ shape: [2, 4], data: [[1, 2, 3, 4], [5, 6, 7, 8]] })] });
    expect(flat.inputs[0]).toEqual({ name: 'features', datatype: 'FP32', shape: [2, 4], data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    expect(nested.inputs[0]).toEqual(flat.inputs[0]);
    expect(flat.id).toBe('a');
    expect(flat.parameters).toEqual({ timeout: 5, x: 'y' });
    expect(flat.outputs).toEqual([{ name: 'label', binaryData: true, parameters: { binary_data: true } }]);
    expect(nested.outputs).toBeUndefined();
    expect(nested.id).toBeUndefined();
    expect(nested.parameters).toEqual({});
  });

  test('nested data must follow the shape level by level', () => {
    const sig: ModelSignature = { inputs: [{ name: 'x', datatype: 'INT32', shape: [-1, -1, -1] }], outputs: [] };
    const ok = decodeJson({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2, 1, 3], data: [[[1, 2, 3]], [[4, 5, 6]]] }] }, sig, NOBATCH);
    expect(ok.inputs[0].data).toEqual(new Int32Array([1, 2, 3, 4, 5, 6]));
    expect(jsonError({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2, 1, 3], data: [[[1, 2, 3]], [[4, 5]]] }] }, sig, NOBATCH)).toBe(
      "input 'x': nested data does not match shape [2,1,3]: an array at depth 2 has 2 elements, expected 3",
    );
    expect(jsonError({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2, 1, 3], data: [[[1, 2, 3]], [4]] }] }, sig, NOBATCH)).toMatch(/expected an array at depth 2, got number 4/);
    expect(jsonError({ inputs: [{ name: 'x', datatype: 'INT32', shape: [1, 1, 1], data: [[[[1]]]] }] }, sig, NOBATCH)).toMatch(/deeper than shape \[1,1,1\]/);
  });

  test('scalars (shape []) take one flat element', () => {
    const sig: ModelSignature = { inputs: [{ name: 'k', datatype: 'INT64', shape: [] }], outputs: [] };
    expect(decodeJson({ inputs: [{ name: 'k', datatype: 'INT64', shape: [], data: [3] }] }, sig, BATCH).inputs[0]).toEqual({ name: 'k', datatype: 'INT64', shape: [], data: new BigInt64Array([3n]) });
    expect(jsonError({ inputs: [{ name: 'k', datatype: 'INT64', shape: [], data: [3, 4] }] }, sig)).toBe("input 'k': shape [] needs 1 elements, got 2");
  });

  test('zero-sized tensors are fine where the model allows them', () => {
    const sig: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }], outputs: [] };
    expect(decodeJson({ inputs: [{ name: 'x', datatype: 'FP32', shape: [0, 3], data: [] }] }, sig, NOBATCH).inputs[0].data).toEqual(new Float32Array(0));
    expect(jsonError({ inputs: [{ name: 'x', datatype: 'FP32', shape: [0, 3], data: [] }] }, sig, BATCH)).toBe(
      "input 'x': batch size 0 in shape [0,3] must be at least 1 (the model's max_batch_size is 64)",
    );
  });

  test('every datatype from JSON', () => {
    const types: Array<[string, unknown[], unknown]> = [
      ['BOOL', [true, false, 1, 0], new Uint8Array([1, 0, 1, 0])],
      ['UINT8', [0, 255], new Uint8Array([0, 255])],
      ['INT8', [-128, 127], new Int8Array([-128, 127])],
      ['UINT16', [0, 65535], new Uint16Array([0, 65535])],
      ['INT16', [-32768, 32767], new Int16Array([-32768, 32767])],
      ['UINT32', [0, 4294967295], new Uint32Array([0, 4294967295])],
      ['INT32', [-2147483648, 2147483647], new Int32Array([-2147483648, 2147483647])],
      ['UINT64', [0, '18446744073709551615'], new BigUint64Array([0n, 18446744073709551615n])],
      ['INT64', ['-9223372036854775808', 9007199254740991], new BigInt64Array([-9223372036854775808n, 9007199254740991n])],
      ['FP16', [1, -2], new Uint16Array([0x3c00, 0xc000])],
      ['FP32', [0.1, 'NaN'], new Float32Array([0.1, NaN])],
      ['FP64', [0.1, '-Infinity'], new Float64Array([0.1, -Infinity])],
      ['BYTES', ['', 'héllo 🌍'], ['', 'héllo 🌍']],
    ];
    for (const [datatype, data, expected] of types) {
      const sig = { inputs: [{ name: 'x', datatype, shape: [-1] }], outputs: [] } as ModelSignature;
      expect(decodeJson({ inputs: [{ name: 'x', datatype, shape: [data.length], data }] }, sig, NOBATCH).inputs[0].data).toEqual(expected);
    }
  });

  test('64-bit integers beyond 2^53 written as JSON numbers are exact', () => {
    const sig: ModelSignature = { inputs: [{ name: 'i', datatype: 'INT64', shape: [3] }, { name: 'u', datatype: 'UINT64', shape: [1] }], outputs: [] };
    const body = Buffer.from('{"inputs":[{"name":"i","datatype":"INT64","shape":[3],"data":[9223372036854775807,-9223372036854775808,9007199254740993]},{"name":"u","datatype":"UINT64","shape":[1],"data":[18446744073709551615]}]}');
    const req = decodeInferRequest(body, undefined, sig, NOBATCH);
    expect(req.inputs[0].data).toEqual(new BigInt64Array([9223372036854775807n, -9223372036854775808n, 9007199254740993n]));
    expect(req.inputs[1].data).toEqual(new BigUint64Array([18446744073709551615n]));
    const over = Buffer.from('{"inputs":[{"name":"i","datatype":"INT64","shape":[3],"data":[9223372036854775808,0,0]},{"name":"u","datatype":"UINT64","shape":[1],"data":[0]}]}');
    expect(error(() => decodeInferRequest(over, undefined, sig, NOBATCH)).message).toBe(
      "input 'i': element 0 of INT64 data must be an integer in [-9223372036854775808, 9223372036854775807] (a JSON number or a decimal string), got number 9223372036854775808",
    );
  });

  test('element type errors say which element, what was expected and what came', () => {
    const one = (datatype: string, v: unknown) =>
      jsonError({ inputs: [{ name: 'x', datatype, shape: [1], data: [v] }] }, { inputs: [{ name: 'x', datatype, shape: [1] }], outputs: [] } as ModelSignature, NOBATCH);
    expect(one('FP32', 'x')).toBe('input \'x\': element 0 of FP32 data must be a number (or "NaN", "Infinity", "-Infinity"), got string "x"');
    expect(one('FP32', null)).toMatch(/got null/);
    expect(one('FP64', true)).toMatch(/got boolean true/);
    expect(one('FP16', 'nan')).toMatch(/FP16.*got string "nan"/);
    expect(one('INT8', 128)).toBe("input 'x': element 0 of INT8 data must be an integer in [-128, 127], got number 128");
    expect(one('UINT8', -1)).toMatch(/\[0, 255\], got number -1/);
    expect(one('INT32', 1.5)).toMatch(/got number 1.5/);
    expect(one('UINT32', '1')).toMatch(/got string "1"/);
    expect(one('UINT64', -1)).toMatch(/UINT64.*got number -1/);
    expect(one('INT64', '1.5')).toMatch(/got string "1.5"/);
    expect(one('INT64', 1e19)).toMatch(/INT64.*got number 10000000000000000000$/);
    expect(one('UINT64', 1.5)).toMatch(/UINT64.*got number 1.5$/);
    expect(one('BOOL', 2)).toBe("input 'x': element 0 of BOOL data must be true or false (or 1 or 0), got number 2");
    expect(one('BOOL', 'true')).toMatch(/got string "true"/);
    expect(one('BYTES', 5)).toBe("input 'x': element 0 of BYTES data must be a string, got number 5");
    expect(one('FP32', [1, 2])).toBe("input 'x': nested data is deeper than shape [1] (rank 1)");
  });

  test('request structure errors', () => {
    expect(error(() => decodeInferRequest(Buffer.from('{"inputs": ['), undefined, IRIS, BATCH)).message).toMatch(/^malformed JSON in request body: /);
    expect(error(() => decodeInferRequest(Buffer.alloc(0), undefined, IRIS, BATCH)).message).toMatch(/^malformed JSON/);
    expect(jsonError([1])).toBe("the request body must be a JSON object with an 'inputs' array, got an array of 1");
    expect(jsonError(null)).toMatch(/got null/);
    expect(jsonError({})).toBe("the request needs an 'inputs' array, got nothing; model inputs are: 'features' (FP32 [-1,4])");
    expect(jsonError({ inputs: {} })).toMatch(/'inputs' array, got an object/);
    expect(jsonError({ id: 5, inputs: [features()] })).toBe("request 'id' must be a string, got number 5");
    expect(jsonError({ parameters: [], inputs: [features()] })).toBe('request parameters must be an object, got an array of 0');
    expect(jsonError({ parameters: { a: {} }, inputs: [features()] })).toBe("request parameter 'a' must be a string, number or boolean, got an object");
    expect(jsonError({ parameters: { binary_data_output: 'yes' }, inputs: [features()] })).toMatch(/'binary_data_output' must be a boolean, got string "yes"/);
    expect(jsonError({ inputs: [5] })).toMatch(/inputs\[0\] must be an object/);
    expect(jsonError({ inputs: [{ datatype: 'FP32' }] })).toBe('inputs[0].name must be a string, got nothing');
    expect(jsonError({ inputs: [features({ data: undefined })] })).toBe("input 'features' has no 'data' (and no parameters.binary_data_size)");
    expect(jsonError({ inputs: [features({ data: 'abc' })] })).toBe("input 'features': data must be an array, got string \"abc\"");
    expect(jsonError({ inputs: [features({ parameters: 7 })] })).toMatch(/input 'features' parameters must be an object/);
  });

  test('input names: unknown, duplicate, missing', () => {
    expect(jsonError({ inputs: [features({ name: 'nope' })] })).toBe("unknown input 'nope'; model inputs are: 'features' (FP32 [-1,4])");
    expect(jsonError({ inputs: [features(), features()] })).toBe("input 'features' appears more than once; model inputs are: 'features' (FP32 [-1,4])");
    expect(jsonError({ inputs: [] })).toBe("missing input 'features'; model inputs are: 'features' (FP32 [-1,4])");
    const two: ModelSignature = { inputs: [{ name: 'a', datatype: 'FP32', shape: [3] }, { name: 'b', datatype: 'FP32', shape: [3] }], outputs: [] };
    expect(jsonError({ inputs: [{ name: 'b', datatype: 'FP32', shape: [3], data: [1, 2, 3] }] }, two)).toBe("missing input 'a'; model inputs are: 'a' (FP32 [3]), 'b' (FP32 [3])");
  });

  test('requested outputs: unknown, duplicate, bad binary_data', () => {
    expect(jsonError({ inputs: [features()], outputs: [{ name: 'nope' }] })).toBe(
      "unknown output 'nope' requested; model outputs are: 'label' (INT64 [-1]), 'probabilities' (FP32 [-1,3])",
    );
    expect(jsonError({ inputs: [features()], outputs: [{ name: 'label' }, { name: 'label' }] })).toBe("output 'label' is requested more than once");
    expect(jsonError({ inputs: [features()], outputs: { name: 'label' } })).toMatch(/'outputs' must be an array/);
    expect(jsonError({ inputs: [features()], outputs: [{ name: 'label', parameters: { binary_data: 1 } }] })).toBe("output 'label' parameter 'binary_data' must be a boolean, got number 1");
    expect(jsonError({ inputs: [features()], outputs: ['label'] })).toMatch(/outputs\[0\] must be an object/);
  });

  test('datatype and shape errors', () => {
    expect(jsonError({ inputs: [features({ datatype: 'INT32' })] })).toBe("input 'features': expected datatype FP32, got INT32");
    expect(jsonError({ inputs: [features({ datatype: 'FLOAT' })] })).toMatch(/^input 'features': expected datatype FP32, got 'FLOAT', which is not one of BOOL, /);
    expect(jsonError({ inputs: [features({ datatype: undefined })] })).toBe("input 'features': expected datatype FP32, got nothing");
    expect(jsonError({ inputs: [features({ shape: [2, 5], data: new Array(10).fill(1) })] })).toBe(
      "input 'features': shape [2,5] does not match the model's [-1,4] (dimension 1 must be 4)",
    );
    expect(jsonError({ inputs: [features({ shape: [4] })] })).toBe("input 'features': shape [4] has rank 1, but the model's [-1,4] has rank 2");
    expect(jsonError({ inputs: [features({ shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7] })] })).toBe("input 'features': shape [2,4] needs 8 elements, got 7");
    expect(jsonError({ inputs: [features({ shape: [65, 4], data: new Array(260).fill(1) })] })).toBe(
      "input 'features': batch size 65 in shape [65,4] exceeds the model's max_batch_size 64",
    );
    expect(jsonError({ inputs: [features({ shape: [1, -4] })] })).toBe("input 'features': shape [1,-4] has an invalid dimension -4 (expected non-negative integers up to 2^31)");
    expect(jsonError({ inputs: [features({ shape: [1.5, 4] })] })).toMatch(/invalid dimension 1.5/);
    expect(jsonError({ inputs: [features({ shape: ['1', 4] })] })).toMatch(/invalid dimension string "1"/);
    expect(jsonError({ inputs: [features({ shape: '1,4' })] })).toMatch(/shape must be an array of non-negative integers, got string/);
    expect(jsonError({ inputs: [features({ shape: [1, 4], data: [] })] })).toBe("input 'features': shape [1,4] needs 4 elements, got 0");
    // Shapes whose element count would overflow are refused before anything is allocated.
    const big: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1, -1] }], outputs: [] };
    expect(jsonError({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2 ** 31, 2 ** 31, 2], data: [] }] }, big, NOBATCH)).toBe(
      "input 'x': shape [2147483648,2147483648,2] has more than 2^31 elements",
    );
    // Non-batching model: the first dimension is just a dimension.
    expect(decodeJson({ inputs: [features({ shape: [100, 4], data: new Array(400).fill(0) })] }, IRIS, NOBATCH).inputs[0].shape).toEqual([100, 4]);
    const fixed: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], outputs: [] };
    expect(jsonError({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: new Array(8).fill(0) }] }, fixed, BATCH)).toBe(
      "input 'x': shape [2,4] does not match the model's [1,4] (dimension 0 must be 1)",
    );
  });

  test('binary_data_size without the header length header is refused', () => {
    expect(jsonError({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }] })).toBe(
      "input 'features' has parameters.binary_data_size, but the request has no Inference-Header-Content-Length header to locate binary data",
    );
  });
});

describe('binary requests', () => {
  const two: ModelSignature = {
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [-1, 3] },
      { name: 's', datatype: 'BYTES', shape: [-1] },
      { name: 'b', datatype: 'INT16', shape: [-1, 2] },
    ],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
  };
  const inputs = (binary: [boolean, boolean, boolean]) => [
    { name: 'a', datatype: 'FP32' as const, shape: [1, 3], values: [1.5, -2, 3], binary: binary[0] },
    { name: 's', datatype: 'BYTES' as const, shape: [3], values: ['', 'ü', '日本語 🎌'], binary: binary[1] },
    { name: 'b', datatype: 'INT16' as const, shape: [1, 2], values: [-32768, 7], binary: binary[2] },
  ];

  test('mixed JSON and binary inputs decode exactly as the all-JSON request does', () => {
    const reference = decodeInferRequest(binaryRequest({ inputs: inputs([false, false, false]) }).body, undefined, two, BATCH);
    for (const mix of [[true, true, true], [true, false, true], [false, true, false]] as Array<[boolean, boolean, boolean]>) {
      const { body, headerLength } = binaryRequest({ inputs: inputs(mix), id: 'z' });
      const req = decodeInferRequest(body, headerLength, two, BATCH);
      expect(req.inputs).toEqual(reference.inputs);
      expect(req.id).toBe('z');
    }
  });

  test('typed arrays are aligned copies even when the binary part sits at an odd offset', () => {
    const { body, headerLength } = binaryRequest({ inputs: inputs([true, true, true]), pad: 'x' });
    const req = decodeInferRequest(body, headerLength, two, BATCH);
    const a = req.inputs[0].data as Float32Array;
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.byteOffset % 4).toBe(0);
    expect(a.buffer).not.toBe(body.buffer);
  });

  const header = (doc: unknown) => {
    const h = Buffer.from(JSON.stringify(doc));
    return { h, len: String(h.length) };
  };
  const fInput = (size: number, extra: Record<string, unknown> = {}) => ({ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: size }, ...extra });

  test('size accounting errors', () => {
    const { h, len } = header({ inputs: [fInput(16)] });
    const data = tensorBytes('FP32', [1, 2, 3, 4]);
    expect(decodeInferRequest(Buffer.concat([h, data]), len, IRIS, BATCH).inputs[0].data).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(error(() => decodeInferRequest(Buffer.concat([h, data.subarray(0, 12)]), len, IRIS, BATCH)).message).toBe(
      `the inputs' binary_data_size values add up to 16 bytes, but only 12 bytes follow the ${len}-byte JSON header`,
    );
    expect(error(() => decodeInferRequest(Buffer.concat([h, data, Buffer.alloc(3)]), len, IRIS, BATCH)).message).toBe(
      `19 bytes follow the ${len}-byte JSON header, but the inputs' binary_data_size values account for only 16 (3 extra)`,
    );
    const wrong = header({ inputs: [fInput(12)] });
    expect(error(() => decodeInferRequest(Buffer.concat([wrong.h, data.subarray(0, 12)]), wrong.len, IRIS, BATCH)).message).toBe(
      "input 'features': binary_data_size is 12, but shape [1,4] of FP32 needs 16 bytes",
    );
    const both = header({ inputs: [fInput(16, { data: [1, 2, 3, 4] })] });
    expect(error(() => decodeInferRequest(Buffer.concat([both.h, data]), both.len, IRIS, BATCH)).message).toBe(
      "input 'features' has both 'data' and parameters.binary_data_size; send its data one way",
    );
    const neg = header({ inputs: [fInput(-16)] });
    expect(error(() => decodeInferRequest(neg.h, neg.len, IRIS, BATCH)).message).toBe("input 'features': parameters.binary_data_size must be a non-negative integer, got number -16");
    // A JSON-only request may still come with the header length.
    const plain = header({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    expect(decodeInferRequest(plain.h, plain.len, IRIS, BATCH).inputs[0].data).toEqual(new Float32Array([1, 2, 3, 4]));
  });

  test('header length errors', () => {
    const body = Buffer.from('{"inputs":[]}');
    expect(error(() => decodeInferRequest(body, '999', IRIS, BATCH)).message).toBe('Inference-Header-Content-Length is 999, but the request body has only 13 bytes');
    expect(error(() => decodeInferRequest(body, '-1', IRIS, BATCH)).message).toBe('Inference-Header-Content-Length must be a non-negative integer, got "-1"');
    expect(error(() => decodeInferRequest(body, 'abc', IRIS, BATCH)).message).toMatch(/non-negative integer, got "abc"/);
    expect(error(() => decodeInferRequest(body, '', IRIS, BATCH)).message).toMatch(/non-negative integer, got ""/);
    expect(error(() => decodeInferRequest(body, '1e3', IRIS, BATCH)).message).toMatch(/non-negative integer/);
    expect(error(() => decodeInferRequest(body, '5', IRIS, BATCH)).message).toMatch(/^malformed JSON/);
  });

  test('BYTES element lengths must stay inside the tensor', () => {
    const sig: ModelSignature = { inputs: [{ name: 's', datatype: 'BYTES', shape: [2] }], outputs: [] };
    const req = (bytes: Buffer) => {
      const { h, len } = header({ inputs: [{ name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: bytes.length } }] });
      return () => decodeInferRequest(Buffer.concat([h, bytes]), len, sig, NOBATCH);
    };
    expect(req(tensorBytes('BYTES', ['ab', '']))().inputs[0].data).toEqual(['ab', '']);
    const overrun = tensorBytes('BYTES', ['ab', 'cd']);
    overrun.writeUInt32LE(100, 6);
    expect(error(req(overrun)).message).toBe("input 's': BYTES element 1 has length 100, which runs past the tensor's 12 bytes (2 left)");
    expect(error(req(tensorBytes('BYTES', ['ab']))).message).toBe("input 's': binary BYTES data ends after 1 of the 2 elements shape [2] needs (6 bytes)");
    expect(error(req(tensorBytes('BYTES', ['a', 'b', 'c']))).message).toBe("input 's': binary BYTES data has 5 bytes left over after the 2 elements shape [2] needs");
    expect(error(req(Buffer.concat([tensorBytes('BYTES', ['a']), Buffer.from([1, 0, 0, 0, 0xff])]))).message).toMatch(/BYTES element 1 is not valid UTF-8/);
  });

  test('BOOL bytes must be 0 or 1', () => {
    const sig: ModelSignature = { inputs: [{ name: 'b', datatype: 'BOOL', shape: [3] }], outputs: [] };
    const { h, len } = header({ inputs: [{ name: 'b', datatype: 'BOOL', shape: [3], parameters: { binary_data_size: 3 } }] });
    expect(decodeInferRequest(Buffer.concat([h, Buffer.from([1, 0, 1])]), len, sig, NOBATCH).inputs[0].data).toEqual(new Uint8Array([1, 0, 1]));
    expect(error(() => decodeInferRequest(Buffer.concat([h, Buffer.from([1, 2, 1])]), len, sig, NOBATCH)).message).toBe("input 'b': BOOL element 1 is the byte 2, expected 0 or 1");
  });
});

describe('raw binary requests (Inference-Header-Content-Length: 0)', () => {
  test('batch dimension is 1, the other dynamic dimension is inferred, all outputs binary', () => {
    const sig: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };
    const req = decodeInferRequest(tensorBytes('FP32', [1, 2, 3, 4, 5, 6]), '0', sig, BATCH);
    expect(req).toEqual({ parameters: { binary_data_output: true }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) }] });
    expect(error(() => decodeInferRequest(tensorBytes('FP32', [1, 2, 3]), '0', sig, BATCH)).message).toBe(
      "input 'x': a raw binary request of 3 FP32 elements does not fit the model's shape [-1,-1,2] (2 elements per step of dimension 1)",
    );
    expect(error(() => decodeInferRequest(Buffer.alloc(7), '0', sig, BATCH)).message).toBe("input 'x': a raw binary FP32 request must be a multiple of 4 bytes, got 7");
  });

  test('fixed shapes must match the byte count; BYTES count elements', () => {
    const fixed: ModelSignature = { inputs: [{ name: 'x', datatype: 'INT32', shape: [-1, 2] }], outputs: [] };
    expect(decodeInferRequest(tensorBytes('INT32', [5, 6]), '0', fixed, BATCH).inputs[0]).toEqual({ name: 'x', datatype: 'INT32', shape: [1, 2], data: new Int32Array([5, 6]) });
    expect(error(() => decodeInferRequest(tensorBytes('INT32', [5, 6, 7, 8]), '0', fixed, BATCH)).message).toBe(
      "input 'x': shape [1,2] needs 2 elements (8 bytes), but the raw binary request holds 4",
    );
    const text: ModelSignature = { inputs: [{ name: 't', datatype: 'BYTES', shape: [-1, -1] }], outputs: [] };
    expect(decodeInferRequest(tensorBytes('BYTES', ['a', 'bc', '']), '0', text, BATCH).inputs[0]).toEqual({ name: 't', datatype: 'BYTES', shape: [1, 3], data: ['a', 'bc', ''] });
  });

  test('only single-input models with at most one dynamic dimension besides the batch', () => {
    const two: ModelSignature = { inputs: [{ name: 'a', datatype: 'FP32', shape: [1] }, { name: 'b', datatype: 'FP32', shape: [1] }], outputs: [] };
    expect(error(() => decodeInferRequest(Buffer.alloc(4), '0', two, NOBATCH)).message).toBe(
      "a raw binary request (Inference-Header-Content-Length: 0) needs a model with exactly one input; this model has 2: 'a' (FP32 [1]), 'b' (FP32 [1])",
    );
    const many: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1, -1] }], outputs: [] };
    expect(error(() => decodeInferRequest(Buffer.alloc(4), '0', many, BATCH)).message).toMatch(/at most one dynamic dimension besides the batch.*\[-1,-1,-1\]/);
    // Non-batching model with one dynamic dimension: it is inferred, not forced to 1.
    const seq: ModelSignature = { inputs: [{ name: 'x', datatype: 'UINT8', shape: [-1] }], outputs: [] };
    expect(decodeInferRequest(Buffer.from([1, 2, 3]), '0', seq, NOBATCH).inputs[0].shape).toEqual([3]);
  });
});

describe('binary tensors viewed in place', () => {
  const count = 2048; // 8 KB of FP32: above the in-place threshold
  const values = Float32Array.from({ length: count }, (_, i) => i / 7);

  test('the body reader aligns the binary part after any JSON header length', () => {
    for (const jsonLength of [0, 1, 2, 3, 5, 7, 8, 13, 151]) {
      const body = alignedBody(jsonLength + count * 4, jsonLength);
      expect(body.length).toBe(jsonLength + count * 4);
      expect((body.byteOffset + jsonLength) % 8).toBe(0);
    }
  });

  test('aligned bytes are viewed without a copy and read the same values', () => {
    const body = alignedBody(13 + count * 4, 13);
    Buffer.from(values.buffer).copy(body, 13);
    const out = decodeBinaryData('x', 'FP32', [count], count, body.subarray(13)) as Float32Array;
    expect(out.buffer).toBe(body.buffer);
    expect(Array.from(out)).toEqual(Array.from(values));
  });

  test('misaligned or small bytes are copied into storage of their own, with the same values', () => {
    const raw = Buffer.alloc(1 + count * 4 + 8);
    const at = (4 - (raw.byteOffset % 4) + 1) % 4 || 1; // an offset that is not a multiple of 4
    expect((raw.byteOffset + at) % 4).not.toBe(0);
    Buffer.from(values.buffer).copy(raw, at);
    const misaligned = decodeBinaryData('x', 'FP32', [count], count, raw.subarray(at, at + count * 4)) as Float32Array;
    expect(misaligned.buffer).not.toBe(raw.buffer);
    expect(Array.from(misaligned)).toEqual(Array.from(values));
    const small = alignedBody(16, 0);
    Buffer.from(values.buffer, 0, 16).copy(small);
    const copied = decodeBinaryData('x', 'FP32', [4], 4, small) as Float32Array;
    expect(copied.buffer).not.toBe(small.buffer);
    expect(Array.from(copied)).toEqual(Array.from(values.subarray(0, 4)));
  });
});
