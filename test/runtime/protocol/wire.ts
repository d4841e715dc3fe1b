/**
 * Test-side wire helpers, written independently of the codec under test: build request bodies
 * (JSON and binary) and read encoded responses back.
 */
import { parseJsonExact } from '../../../runtime/protocol/json-codec';
import { halfBitsToNumber } from '../../../runtime/protocol/fp16';
import type { Datatype, ModelSignature, Tensor } from '../../../runtime/protocol/types';

export const SIZE: Record<Datatype, number> = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8, BYTES: 0,
};

export const IRIS: ModelSignature = {
  inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
  ],
};

export const json = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));

/** Raw little-endian bytes of tensor values, per the binary extension (DataView, not the codec). */
export function tensorBytes(datatype: Datatype, values: ArrayLike<unknown>): Buffer {
  if (datatype === 'BYTES') {
    return Buffer.concat(
      Array.from(values as ArrayLike<string>, (s) => {
        const b = Buffer.from(s, 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32LE(b.length);
        return Buffer.concat([len, b]);
      }),
    );
  }
  const size = SIZE[datatype];
  const buf = new ArrayBuffer(values.length * size);
  const dv = new DataView(buf);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as never;
    const o = i * size;
    switch (datatype) {
      case 'BOOL': dv.setUint8(o, v ? 1 : 0); break;
      case 'UINT8': dv.setUint8(o, v); break;
      case 'INT8': dv.setInt8(o, v); break;
      case 'UINT16': case 'FP16': dv.setUint16(o, v, true); break;
      case 'INT16': dv.setInt16(o, v, true); break;
      case 'UINT32': dv.setUint32(o, v, true); break;
      case 'INT32': dv.setInt32(o, v, true); break;
      case 'UINT64': dv.setBigUint64(o, v, true); break;
      case 'INT64': dv.setBigInt64(o, v, true); break;
      case 'FP32': dv.setFloat32(o, v, true); break;
      case 'FP64': dv.setFloat64(o, v, true); break;
    }
  }
  return Buffer.from(buf);
}

/** Values from raw little-endian bytes (the inverse of tensorBytes), as plain JS values. */
export function readBytes(datatype: Datatype, bytes: Buffer): unknown[] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (let o = 0; o < bytes.length; ) {
      const n = bytes.readUInt32LE(o);
      out.push(bytes.toString('utf8', o + 4, o + 4 + n));
      o += 4 + n;
    }
    return out;
  }
  const size = SIZE[datatype];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: unknown[] = [];
  for (let o = 0; o < bytes.length; o += size) {
    switch (datatype) {
      case 'BOOL': out.push(dv.getUint8(o) === 1); break;
      case 'UINT8': out.push(dv.getUint8(o)); break;
      case 'INT8': out.push(dv.getInt8(o)); break;
      case 'UINT16': out.push(dv.getUint16(o, true)); break;
      case 'FP16': out.push(halfBitsToNumber(dv.getUint16(o, true))); break;
      case 'INT16': out.push(dv.getInt16(o, true)); break;
      case 'UINT32': out.push(dv.getUint32(o, true)); break;
      case 'INT32': out.push(dv.getInt32(o, true)); break;
      case 'UINT64': out.push(dv.getBigUint64(o, true)); break;
      case 'INT64': out.push(dv.getBigInt64(o, true)); break;
      case 'FP32': out.push(dv.getFloat32(o, true)); break;
      case 'FP64': out.push(dv.getFloat64(o, true)); break;
    }
  }
  return out;
}

/** A JSON request body element for a stored value: 64-bit ints as decimal strings, non-finite floats as strings. */
export function jsonElement(datatype: Datatype, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (datatype === 'FP16') v = halfBitsToNumber(v as number);
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (datatype === 'BOOL') return v === 1 || v === true;
  return v;
}

/** Build a binary request: header JSON whose inputs with `binary` get binary_data_size, then their bytes. */
export function binaryRequest(
  doc: { inputs: Array<{ name: string; datatype: Datatype; shape: number[]; values: ArrayLike<unknown>; binary: boolean }>; [k: string]: unknown },
): { body: Buffer; headerLength: string } {
  const parts: Buffer[] = [];
  const inputs = doc.inputs.map(({ name, datatype, shape, values, binary }) => {
    if (!binary) return { name, datatype, shape, data: Array.from(values, (v) => jsonElement(datatype, v)) };
    const bytes = tensorBytes(datatype, values);
    parts.push(bytes);
    return { name, datatype, shape, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...doc, inputs }));
  return { body: Buffer.concat([header, ...parts]), headerLength: String(header.length) };
}

export interface ParsedOutput {
  name: string;
  datatype: Datatype;
  shape: number[];
  binary: boolean;
  /** Plain values: numbers, bigints (64-bit), booleans, strings. NaN/Infinity from their JSON strings. */
  values: unknown[];
}

/** Read an encoded response (JSON or JSON header + binary) back into plain values. */
export function parseResponse(encoded: { body: Buffer; contentType: string; headers: Record<string, string> }): { doc: Record<string, any>; outputs: ParsedOutput[] } {
  const hl = encoded.headers['Inference-Header-Content-Length'];
  const jsonEnd = hl === undefined ? encoded.body.length : Number(hl);
  const doc = parseJsonExact(encoded.body.toString('utf8', 0, jsonEnd)) as Record<string, any>;
  let offset = jsonEnd;
  const outputs = (doc.outputs as any[]).map((o): ParsedOutput => {
    const size = o.parameters?.binary_data_size;
    if (size !== undefined) {
      const values = readBytes(o.datatype, encoded.body.subarray(offset, offset + size));
      offset += size;
      return { name: o.name, datatype: o.datatype, shape: o.shape, binary: true, values };
    }
    const values = (o.data as unknown[]).map((v) => {
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      const big = o.datatype === 'INT64' || o.datatype === 'UINT64';
      if (big && typeof v === 'number') return BigInt(v);
      // The exact parser keeps any unsafe integer literal as BigInt, floats like -2^53 included.
      if (!big && typeof v === 'bigint') return Number(v);
      return v;
    });
    return { name: o.name, datatype: o.datatype, shape: o.shape, binary: false, values };
  });
  expect(offset).toBe(encoded.body.length);
  return { doc, outputs };
}

/** A tensor's stored values as plain JS values, in the form parseResponse yields. */
export function plainValues(t: Tensor): unknown[] {
  const d = Array.from(t.data as ArrayLike<unknown>);
  if (t.datatype === 'FP16') return d.map((b) => halfBitsToNumber(b as number));
  if (t.datatype === 'BOOL') return d.map((b) => b === 1);
  return d;
}
