import { InferenceError } from '../../../runtime/errors';
import { decodeInferRequest, encodeInferResponse } from '../../../runtime/protocol/codec';
import type { InferRequest, InferResponse, Tensor } from '../../../runtime/protocol/types';
import { IRIS, parseResponse, tensorBytes } from './wire';

const label: Tensor = { name: 'label', datatype: 'INT64', shape: [3], data: new BigInt64Array([0n, 9223372036854775807n, -9223372036854775808n]) };
const probs: Tensor = { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: new Float32Array([0.25, 0.5, 0.25]) };
const response = (outputs: Tensor[] = [label, probs], extra: Partial<InferResponse> = {}): InferResponse => ({ modelName: 'iris', modelVersion: '1', outputs, ...extra });
const req = (extra: Partial<InferRequest> = {}): InferRequest => ({ parameters: {}, inputs: [], ...extra });

describe('JSON responses', () => {
  test('the envelope, exact 64-bit integers, id and parameters', () => {
    const enc = encodeInferResponse(response([label, probs], { id: 'r"1', parameters: { a: 1 } }), req());
    expect(enc.contentType).toBe('application/json');
    expect(enc.headers).toEqual({});
    expect(enc.body.toString()).toBe(
      '{"model_name":"iris","model_version":"1","id":"r\\"1","parameters":{"a":1},"outputs":[' +
        '{"name":"label","datatype":"INT64","shape":[3],"data":[0,9223372036854775807,-9223372036854775808]},' +
        '{"name":"probabilities","datatype":"FP32","shape":[1,3],"data":[0.25,0.5,0.25]}]}',
    );
    expect(() => JSON.parse(enc.body.toString())).not.toThrow();
  });

  test('every datatype as JSON', () => {
    const t = (datatype: Tensor['datatype'], data: Tensor['data']): Tensor => ({ name: datatype, datatype, shape: [data.length], data });
    const outputs = [
      t('BOOL', new Uint8Array([1, 0])),
      t('UINT8', new Uint8Array([255])),
      t('INT8', new Int8Array([-128])),
      t('UINT16', new Uint16Array([65535])),
      t('INT16', new Int16Array([-32768])),
      t('UINT32', new Uint32Array([4294967295])),
      t('INT32', new Int32Array([-2147483648])),
      t('UINT64', new BigUint64Array([18446744073709551615n])),
      t('FP16', new Uint16Array([0x3c00, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x0001])),
      t('FP32', new Float32Array([0.1, NaN, -0])),
      t('FP64', new Float64Array([0.1, Infinity, 1e300])),
      t('BYTES', ['', 'ü "q" 🎌']),
    ];
    const text = encodeInferResponse(response(outputs), req()).body.toString();
    const data = Object.fromEntries((JSON.parse(text).outputs as any[]).map((o) => [o.name, o.data]));
    expect(data.BOOL).toEqual([true, false]);
    expect(text).toContain('"data":[18446744073709551615]');
    expect(data.FP16).toEqual([1, 'Infinity', '-Infinity', 'NaN', -0, 2 ** -24]);
    expect(text).toContain('"data":[1,"Infinity","-Infinity","NaN",-0,5.960464477539063e-8]');
    expect(data.FP32).toEqual([Math.fround(0.1), 'NaN', -0]);
    expect(data.FP64).toEqual([0.1, 'Infinity', 1e300]);
    expect(data.BYTES).toEqual(['', 'ü "q" 🎌']);
    expect(data.INT8).toEqual([-128]);
  });
});

describe('the outputs filter and binary outputs', () => {
  test('only the requested outputs, in the requested order', () => {
    const { doc } = parseResponse(encodeInferResponse(response(), req({ outputs: [{ name: 'probabilities' }, { name: 'label' }] })));
    expect(doc.outputs.map((o: any) => o.name)).toEqual(['probabilities', 'label']);
    const one = parseResponse(encodeInferResponse(response(), req({ outputs: [{ name: 'label' }] })));
    expect(one.outputs.map((o) => o.name)).toEqual(['label']);
  });

  test('per-output binary_data', () => {
    const enc = encodeInferResponse(response(), req({ outputs: [{ name: 'label' }, { name: 'probabilities', binaryData: true }] }));
    expect(enc.contentType).toBe('application/octet-stream');
    const headerLength = Number(enc.headers['Inference-Header-Content-Length']);
    const header = JSON.parse(enc.body.toString('utf8', 0, headerLength));
    expect(header.outputs[1]).toEqual({ name: 'probabilities', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } });
    expect(enc.body.subarray(headerLength)).toEqual(tensorBytes('FP32', [0.25, 0.5, 0.25]));
    expect(header.outputs[0].data).toEqual([0, 9223372036854775807, -9223372036854775808]);
  });

  test('binary_data_output makes every output binary unless one says binary_data: false', () => {
    const all = parseResponse(encodeInferResponse(response(), req({ parameters: { binary_data_output: true } })));
    expect(all.outputs.map((o) => o.binary)).toEqual([true, true]);
    expect(all.outputs[0].values).toEqual([0n, 9223372036854775807n, -9223372036854775808n]);
    const some = parseResponse(
      encodeInferResponse(response(), req({ parameters: { binary_data_output: true }, outputs: [{ name: 'label', binaryData: false }, { name: 'probabilities' }] })),
    );
    expect(some.outputs.map((o) => o.binary)).toEqual([false, true]);
  });

  test('a decoded request drives the encoding (outputs filter, binary_data, raw requests)', () => {
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }], outputs: [{ name: 'label', parameters: { binary_data: true } }] }));
    const decoded = decodeInferRequest(body, undefined, IRIS, { maxBatchSize: 8 });
    const enc = parseResponse(encodeInferResponse(response(), decoded));
    expect(enc.outputs.map((o) => [o.name, o.binary])).toEqual([['label', true]]);
    const raw = decodeInferRequest(tensorBytes('FP32', [1, 2, 3, 4]), '0', IRIS, { maxBatchSize: 8 });
    expect(parseResponse(encodeInferResponse(response(), raw)).outputs.map((o) => o.binary)).toEqual([true, true]);
  });

  test('BOOL and BYTES binary layout', () => {
    const outputs: Tensor[] = [
      { name: 'b', datatype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 7]) },
      { name: 's', datatype: 'BYTES', shape: [2], data: ['', '日本'] },
    ];
    const enc = encodeInferResponse(response(outputs), req({ parameters: { binary_data_output: true } }));
    const headerLength = Number(enc.headers['Inference-Header-Content-Length']);
    expect(enc.body.subarray(headerLength)).toEqual(Buffer.from([1, 0, 1, 0, 0, 0, 0, 6, 0, 0, 0, 0xe6, 0x97, 0xa5, 0xe6, 0x9c, 0xac]));
  });

  test('a requested output the model did not produce is an internal error', () => {
    expect(() => encodeInferResponse(response([label]), req({ outputs: [{ name: 'probabilities' }] }))).toThrow(InferenceError);
    try {
      encodeInferResponse(response([label]), req({ outputs: [{ name: 'probabilities' }] }));
    } catch (err) {
      expect((err as InferenceError).statusCode).toBe(500);
    }
  });
});
