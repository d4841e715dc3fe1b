import fc from 'fast-check';
import { InferenceError } from '../../../runtime/errors';
import { decodeInferRequest, encodeInferResponse } from '../../../runtime/protocol/codec';
import { DATATYPES } from '../../../runtime/protocol/datatypes';
import { halfBitsToNumber } from '../../../runtime/protocol/fp16';
import { parseJsonExact } from '../../../runtime/protocol/json-codec';
import type { Datatype, ModelSignature, Tensor, TensorData } from '../../../runtime/protocol/types';
import { IRIS, binaryRequest, jsonElement, parseResponse, plainValues, tensorBytes } from './wire';

const values = (dt: Datatype, n: number): fc.Arbitrary<unknown[]> => {
  const v = ((): fc.Arbitrary<unknown> => {
    switch (dt) {
      case 'BOOL': return fc.constantFrom(0, 1);
      case 'UINT8': return fc.integer({ min: 0, max: 255 });
      case 'INT8': return fc.integer({ min: -128, max: 127 });
      case 'UINT16': return fc.integer({ min: 0, max: 65535 });
      case 'INT16': return fc.integer({ min: -32768, max: 32767 });
      case 'UINT32': return fc.integer({ min: 0, max: 4294967295 });
      case 'INT32': return fc.integer({ min: -2147483648, max: 2147483647 });
      case 'UINT64': return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
      case 'INT64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
      case 'FP16': return fc.integer({ min: 0, max: 65535 });
      case 'FP32': return fc.float();
      case 'FP64': return fc.double();
      case 'BYTES': return fc.string({ unit: 'grapheme', maxLength: 6 });
    }
  })();
  return fc.array(v, { minLength: n, maxLength: n });
};

interface Case { datatype: Datatype; shape: number[]; spec: number[]; values: unknown[]; binary: boolean }

const tensorCase: fc.Arbitrary<Case> = fc
  .record({ datatype: fc.constantFrom(...DATATYPES), shape: fc.array(fc.nat(3), { maxLength: 3 }), dyn: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), binary: fc.boolean() })
  .chain(({ datatype, shape, dyn, binary }) =>
    values(datatype, shape.reduce((a, b) => a * b, 1)).map((vals) => ({ datatype, shape, spec: shape.map((d, i) => (dyn[i] ? -1 : d)), values: vals, binary })),
  );

/** What the decoder should store for these values. */
function stored(dt: Datatype, vals: unknown[]): unknown[] {
  if (dt === 'FP32') return vals.map((v) => Math.fround(v as number));
  return vals;
}

/** Equality for stored element arrays: NaN equals NaN; when `viaJson`, -0 equals 0 and FP16 NaN payloads collapse. */
function same(dt: Datatype, actual: TensorData, expected: unknown[], viaJson: boolean): void {
  const a = Array.from(actual as ArrayLike<unknown>);
  expect(a.length).toBe(expected.length);
  for (let i = 0; i < a.length; i++) {
    let x = a[i];
    let y = expected[i];
    if (dt === 'FP16') {
      x = halfBitsToNumber(x as number);
      y = halfBitsToNumber(y as number);
      if (!viaJson && !Number.isNaN(x)) expect(a[i]).toBe(expected[i]);
    }
    if (typeof x === 'number' && typeof y === 'number') {
      if (Number.isNaN(y)) expect(x).toBeNaN();
      else if (viaJson && y === 0) expect(x === 0).toBe(true);
      else expect(Object.is(x, y)).toBe(true);
    } else {
      expect(x).toEqual(y);
    }
  }
}

describe('properties', () => {
  test('random tensors survive request encode → decode (JSON and binary alike)', () => {
    fc.assert(
      fc.property(fc.array(tensorCase, { minLength: 1, maxLength: 3 }), (cases) => {
        const sig: ModelSignature = { inputs: cases.map((c, i) => ({ name: `in${i}`, datatype: c.datatype, shape: c.spec })), outputs: [] };
        const inputs = cases.map((c, i) => ({ name: `in${i}`, datatype: c.datatype, shape: c.shape, values: c.values, binary: c.binary }));
        const asJson = decodeInferRequest(Buffer.from(JSON.stringify({ inputs: inputs.map((x) => ({ name: x.name, datatype: x.datatype, shape: x.shape, data: x.values.map((v) => jsonElement(x.datatype, v)) })) })), undefined, sig, { maxBatchSize: 0 });
        const mixed = binaryRequest({ inputs });
        const asBinary = decodeInferRequest(mixed.body, mixed.headerLength, sig, { maxBatchSize: 0 });
        cases.forEach((c, i) => {
          expect(asJson.inputs[i].shape).toEqual(c.shape);
          expect(asBinary.inputs[i].shape).toEqual(c.shape);
          same(c.datatype, asJson.inputs[i].data, stored(c.datatype, c.values), true);
          same(c.datatype, asBinary.inputs[i].data, stored(c.datatype, c.values), !c.binary);
          expect(asBinary.inputs[i].data.constructor).toBe(asJson.inputs[i].data.constructor);
        });
      }),
      { numRuns: 300 },
    );
  });

  test('random tensors survive response encode → parse (JSON and binary alike)', () => {
    fc.assert(
      fc.property(fc.array(tensorCase, { minLength: 1, maxLength: 4 }), fc.boolean(), (cases, allBinary) => {
        const outputs: Tensor[] = cases.map((c, i) => {
          const sig: ModelSignature = { inputs: [{ name: `out${i}`, datatype: c.datatype, shape: c.shape }], outputs: [] };
          // Build storage through the binary decoder, which the test above ties to the test-side layout.
          const bytes = tensorBytes(c.datatype, c.values);
          const header = Buffer.from(JSON.stringify({ inputs: [{ name: `out${i}`, datatype: c.datatype, shape: c.shape, parameters: { binary_data_size: bytes.length } }] }));
          return decodeInferRequest(Buffer.concat([header, bytes]), String(header.length), sig, { maxBatchSize: 0 }).inputs[0];
        });
        const request = { parameters: { binary_data_output: allBinary }, inputs: [], outputs: cases.map((c, i) => ({ name: `out${i}`, binaryData: c.binary ? true : undefined })) };
        const enc = encodeInferResponse({ modelName: 'm', modelVersion: '1', outputs }, request);
        const parsed = parseResponse(enc);
        expect(enc.contentType).toBe(parsed.outputs.some((o) => o.binary) ? 'application/octet-stream' : 'application/json');
        parsed.outputs.forEach((o, i) => {
          expect(o.binary).toBe(cases[i].binary || allBinary);
          expect(o.shape).toEqual(cases[i].shape);
          expect(o.datatype).toBe(cases[i].datatype);
          const expected = plainValues(outputs[i]);
          expect(o.values.length).toBe(expected.length);
          o.values.forEach((v, j) => {
            const e = expected[j];
            if (typeof e === 'number' && Number.isNaN(e)) expect(v).toBeNaN();
            else if (typeof e === 'number') expect(Object.is(v, e)).toBe(true);
            else expect(v).toEqual(e);
          });
        });
      }),
      { numRuns: 300 },
    );
  });

  test('parseJsonExact agrees with JSON.parse (apart from keeping big integers exact)', () => {
    const text = fc.oneof(
      fc.json(),
      fc.json().chain((j) => fc.tuple(fc.nat(j.length), fc.string({ maxLength: 3 })).map(([i, s]) => j.slice(0, i) + s + j.slice(i + 1))),
      fc.string({ unit: fc.constantFrom(...'{}[],:"\\ 0123456789-+.eEtruefalsn\n'), maxLength: 20 }),
      fc.bigInt().map((b) => `[${b}, ${b}.5, "${b}"]`),
    );
    fc.assert(
      fc.property(text, (s) => {
        let expected: unknown;
        let expectedError = false;
        try {
          expected = JSON.parse(s);
        } catch {
          expectedError = true;
        }
        if (expectedError) {
          expect(() => parseJsonExact(s)).toThrow(SyntaxError);
          return;
        }
        const actual = parseJsonExact(s);
        expect(JSON.stringify(actual, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))).toBe(JSON.stringify(expected));
      }),
      { numRuns: 3000 },
    );
    expect(parseJsonExact('[12345678901234567890, 1.5, -0, 9007199254740991]')).toEqual([12345678901234567890n, 1.5, -0, 9007199254740991]);
    expect(Object.getPrototypeOf(parseJsonExact('{"__proto__": {"x": 1}}'))).toBe(Object.prototype);
  });
});

describe('garbage never throws anything but a 400', () => {
  const only400 = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof InferenceError) || err.kind !== 'invalid_argument') throw err;
    }
  };
  const sigs: ModelSignature[] = [
    IRIS,
    { inputs: [{ name: 'x', datatype: 'BYTES', shape: [-1, -1] }], outputs: [{ name: 'y', datatype: 'BYTES', shape: [-1] }] },
    { inputs: [{ name: 'a', datatype: 'INT64', shape: [-1, 2] }, { name: 'b', datatype: 'FP16', shape: [] }, { name: 'c', datatype: 'BOOL', shape: [3] }], outputs: [] },
  ];
  const sig = fc.constantFrom(...sigs);
  const opts = fc.record({ maxBatchSize: fc.constantFrom(0, 1, 4, 64) });

  test('random bytes, with and without a header length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.option(fc.oneof(fc.nat(80).map(String), fc.string({ maxLength: 5 }))), sig, opts, (bytes, hl, s, o) => {
        only400(() => decodeInferRequest(Buffer.from(bytes), hl ?? undefined, s, o));
      }),
      { numRuns: 2000 },
    );
  });

  test('random JSON documents shaped roughly like requests', () => {
    const names = fc.constantFrom('features', 'x', 'a', 'b', 'c', 'nope', '__proto__', 'constructor');
    const dtype = fc.oneof(fc.constantFrom(...DATATYPES), fc.jsonValue());
    const shape = fc.oneof(fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 4 }), fc.jsonValue());
    const data = fc.oneof(fc.array(fc.oneof(fc.jsonValue(), fc.constantFrom('NaN', '1', 1e300, -1, 0.5, true)), { maxLength: 12 }), fc.jsonValue());
    const input = fc.record(
      { name: fc.oneof(names, fc.jsonValue()), datatype: dtype, shape, data, parameters: fc.oneof(fc.record({ binary_data_size: fc.oneof(fc.nat(64), fc.jsonValue()) }), fc.jsonValue()) },
      { requiredKeys: [] },
    );
    const doc = fc.oneof(
      fc.record(
        {
          id: fc.oneof(fc.string(), fc.jsonValue()),
          parameters: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
          inputs: fc.oneof(fc.array(input, { maxLength: 4 }), fc.jsonValue()),
          outputs: fc.oneof(fc.array(fc.record({ name: fc.oneof(fc.constantFrom('label', 'y', 'probabilities'), fc.jsonValue()), parameters: fc.jsonValue() }, { requiredKeys: [] })), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(doc, fc.uint8Array({ maxLength: 40 }), fc.boolean(), sig, opts, (d, tail, withTail, s, o) => {
        const header = Buffer.from(JSON.stringify(d) ?? 'null');
        only400(() => decodeInferRequest(header, undefined, s, o));
        if (withTail) only400(() => decodeInferRequest(Buffer.concat([header, tail]), String(header.length), s, o));
      }),
      { numRuns: 2000 },
    );
  });

  test('corrupted valid binary requests', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), fc.integer({ min: -3, max: 3 }), (flips, cut, hlDelta) => {
        const s = sigs[1];
        const { body, headerLength } = binaryRequest({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 3], values: ['a', 'bé', '🎌'], binary: true }] });
        const b = Buffer.from(body);
        for (const [i, v] of flips) b[i % b.length] = v;
        const truncated = b.subarray(0, b.length - (cut % 6));
        only400(() => decodeInferRequest(truncated, String(Number(headerLength) + hlDelta), s, { maxBatchSize: 4 }));
        only400(() => decodeInferRequest(truncated, '0', s, { maxBatchSize: 4 }));
      }),
      { numRuns: 2000 },
    );
  });
});
