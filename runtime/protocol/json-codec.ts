/**
 * JSON side of the protocol: parsing request text, turning `data` arrays into typed storage,
 * and writing tensor data back as JSON array text.
 *
 * Decisions (documented here once, tested in test/runtime/protocol):
 * - BOOL accepts JSON true/false and, for numpy-style clients, the numbers 1 and 0; nothing else.
 *   Responses always carry true/false.
 * - INT64/UINT64 accept JSON integer numbers and decimal integer strings ("-9223372036854775808").
 *   JSON.parse would round integers beyond 2^53, so when a model has a 64-bit input and the body
 *   holds a 16+ digit run, the body is parsed by `parseJsonExact`, which keeps unsafe integer
 *   literals as BigInt. Responses write 64-bit integers as exact JSON number literals.
 * - FP16/FP32/FP64 accept JSON numbers, plus exactly the strings "NaN", "Infinity" and "-Infinity"
 *   (the protobuf JSON mapping's spelling: JSON has no literal for them). Responses use the same
 *   strings for non-finite values, so a response's data can be sent back as a request's.
 *   FP16 numbers round to the nearest half (ties to even); FP32 rounds like Math.fround.
 * - BYTES elements are JSON strings (UTF-8 in the binary form).
 */
import { invalidArgument } from '../errors';
import { BIG_RANGES, INT_RANGES, describe, formatShape } from './datatypes';
import { halfTable, toHalfBits } from './fp16';
import type { Datatype, Tensor, TensorData } from './types';

// ---------------------------------------------------------------------------------------------
// Parsing

/** Largest nesting depth `parseJsonExact` accepts (the protocol needs the tensor rank + 4). */
const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * A JSON parser equivalent to JSON.parse except that integer literals that are not safe
 * integers come back as BigInt, exactly. Throws SyntaxError on malformed text.
 */
export function parseJsonExact(text: string): unknown {
  let i = 0;
  const fail = (what?: string): never => {
    if (i >= text.length) throw new SyntaxError('Unexpected end of JSON input');
    throw new SyntaxError(`${what ?? `Unexpected token ${JSON.stringify(text[i])}`} in JSON at position ${i}`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== c) fail(); // NaN: end of text
      if (c === 0x22) break;
      i += c === 0x5c ? 2 : 1;
    }
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('Bad string');
    }
  };
  const value = (depth: number): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      if (depth >= MAX_DEPTH) fail('Nesting too deep');
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const key = str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        const v = value(depth + 1);
        if (key === '__proto__') Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
        else obj[key] = v;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail();
      }
    }
    if (c === '[') {
      if (depth >= MAX_DEPTH) fail('Nesting too deep');
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return arr;
        } else fail();
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) return fail();
    const token = m[0];
    i += token.length;
    const n = Number(token);
    if (!Number.isSafeInteger(n) && /^-?[0-9]+$/.test(token)) return BigInt(token);
    return n;
  };
  const result = value(0);
  ws();
  if (i < text.length) fail();
  return result;
}

/**
 * Parse request JSON. `exactIntegers` asks for the BigInt-preserving parser, used only when it
 * can matter (the model takes 64-bit integers and the text has a 16+ digit run).
 */
export function parseRequestJson(text: string, exactIntegers: boolean): unknown {
  try {
    return exactIntegers && /[0-9]{16}/.test(text) ? parseJsonExact(text) : JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`malformed JSON in request body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding `data`

/** Flatten nested `data`, checking each level's length against the shape. */
function flattenNested(name: string, shape: readonly number[], data: unknown[], count: number): unknown[] {
  const out = new Array<unknown>(count);
  let k = 0;
  const walk = (arr: unknown[], depth: number): void => {
    if (arr.length !== shape[depth]) {
      throw invalidArgument(
        `input '${name}': nested data does not match shape ${formatShape(shape)}: an array at depth ${depth} has ${arr.length} elements, expected ${shape[depth]}`,
      );
    }
    if (depth === shape.length - 1) {
      for (let j = 0; j < arr.length; j++) {
        const v = arr[j];
        if (Array.isArray(v)) throw invalidArgument(`input '${name}': nested data is deeper than shape ${formatShape(shape)} (rank ${shape.length})`);
        out[k++] = v;
      }
      return;
    }
    for (let j = 0; j < arr.length; j++) {
      const v = arr[j];
      if (!Array.isArray(v)) {
        throw invalidArgument(`input '${name}': nested data does not match shape ${formatShape(shape)}: expected an array at depth ${depth + 1}, got ${describe(v)}`);
      }
      walk(v, depth + 1);
    }
  };
  if (shape.length === 0) throw invalidArgument(`input '${name}': a scalar (shape []) takes flat data with one element, got nested arrays`);
  walk(data, 0);
  return out;
}

function elementError(name: string, datatype: Datatype, i: number, expected: string, got: unknown) {
  return invalidArgument(`input '${name}': element ${i} of ${datatype} data must be ${expected}, got ${describe(got)}`);
}

function nonFinite(v: unknown): number | undefined {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return undefined;
}

const FLOAT_EXPECTED = 'a number (or "NaN", "Infinity", "-Infinity")';

function slowFloat(name: string, datatype: Datatype, i: number, v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  const f = nonFinite(v);
  if (f === undefined) throw elementError(name, datatype, i, FLOAT_EXPECTED, v);
  return f;
}

function decodeFloat32(name: string, flat: unknown[]): Float32Array {
  const n = flat.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    out[i] = typeof v === 'number' ? v : slowFloat(name, 'FP32', i, v);
  }
  return out;
}

function decodeFloat64(name: string, flat: unknown[]): Float64Array {
  const n = flat.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    out[i] = typeof v === 'number' ? v : slowFloat(name, 'FP64', i, v);
  }
  return out;
}

function decodeFloat16(name: string, flat: unknown[]): Uint16Array {
  const n = flat.length;
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    out[i] = toHalfBits(typeof v === 'number' ? v : slowFloat(name, 'FP16', i, v));
  }
  return out;
}

type SmallInt = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

function decodeSmallInt(name: string, datatype: Datatype, flat: unknown[], out: SmallInt): SmallInt {
  const [min, max] = INT_RANGES[datatype]!;
  const n = flat.length;
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !(v >= min && v <= max) || Math.floor(v) !== v) {
      throw elementError(name, datatype, i, `an integer in [${min}, ${max}]`, v);
    }
    out[i] = v;
  }
  return out;
}

const DECIMAL = /^-?[0-9]{1,20}$/;

function decodeBig(name: string, datatype: 'INT64' | 'UINT64', flat: unknown[]): BigInt64Array | BigUint64Array {
  const [min, max] = BIG_RANGES[datatype];
  const n = flat.length;
  const out = datatype === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
  const minN = Number(min);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    let b: bigint | undefined;
    if (typeof v === 'number') {
      // Safe integers are exact; larger JSON numbers were already rounded, unless the exact parser ran.
      if (Number.isSafeInteger(v) && v >= minN) b = BigInt(v);
    } else if (typeof v === 'bigint') {
      b = v;
    } else if (typeof v === 'string' && DECIMAL.test(v)) {
      b = BigInt(v);
    }
    if (b === undefined || b < min || b > max) {
      throw elementError(name, datatype, i, `an integer in [${min}, ${max}] (a JSON number or a decimal string)`, v);
    }
    out[i] = b;
  }
  return out;
}

function decodeBool(name: string, flat: unknown[]): Uint8Array {
  const n = flat.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (v === true || v === 1) out[i] = 1;
    else if (v !== false && v !== 0) throw elementError(name, 'BOOL', i, 'true or false (or 1 or 0)', v);
  }
  return out;
}

function decodeBytes(name: string, flat: unknown[]): string[] {
  const n = flat.length;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (typeof v !== 'string') throw elementError(name, 'BYTES', i, 'a string', v);
    out[i] = v;
  }
  return out;
}

/**
 * Turn an input's JSON `data` (flat or nested, row-major) into typed storage of exactly
 * `count` elements. The shape must already be validated.
 */
export function decodeJsonData(name: string, datatype: Datatype, shape: readonly number[], count: number, data: unknown): TensorData {
  if (!Array.isArray(data)) throw invalidArgument(`input '${name}': data must be an array, got ${describe(data)}`);
  const flat = data.length > 0 && Array.isArray(data[0]) ? flattenNested(name, shape, data, count) : data;
  if (flat.length !== count) throw invalidArgument(`input '${name}': shape ${formatShape(shape)} needs ${count} elements, got ${flat.length}`);
  switch (datatype) {
    case 'FP32':
      return decodeFloat32(name, flat);
    case 'FP64':
      return decodeFloat64(name, flat);
    case 'FP16':
      return decodeFloat16(name, flat);
    case 'BOOL':
      return decodeBool(name, flat);
    case 'UINT8':
      return decodeSmallInt(name, datatype, flat, new Uint8Array(count));
    case 'INT8':
      return decodeSmallInt(name, datatype, flat, new Int8Array(count));
    case 'UINT16':
      return decodeSmallInt(name, datatype, flat, new Uint16Array(count));
    case 'INT16':
      return decodeSmallInt(name, datatype, flat, new Int16Array(count));
    case 'UINT32':
      return decodeSmallInt(name, datatype, flat, new Uint32Array(count));
    case 'INT32':
      return decodeSmallInt(name, datatype, flat, new Int32Array(count));
    case 'INT64':
    case 'UINT64':
      return decodeBig(name, datatype, flat);
    case 'BYTES':
      return decodeBytes(name, flat);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function floatText(data: ArrayLike<number>): string {
  const n = data.length;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v - v !== 0 || (v === 0 && 1 / v < 0)) {
      finite = false;
      break;
    }
  }
  // All finite and no -0: JSON.stringify of a plain array is the fastest exact (shortest round-trip) form.
  if (finite) return JSON.stringify(Array.from(data));
  // Slow path: non-finite values as strings, and -0 kept as the (valid JSON) literal -0.
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    parts[i] = v - v === 0 ? (v === 0 && 1 / v < 0 ? '-0' : String(v)) : v !== v ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
  }
  return `[${parts.join(',')}]`;
}

/** A tensor's data as a flat JSON array literal. */
export function encodeJsonData(tensor: Tensor): string {
  const data = tensor.data as ArrayLike<unknown>;
  switch (tensor.datatype) {
    case 'BYTES':
      return JSON.stringify(Array.from(data, (v) => String(v)));
    case 'BOOL': {
      const parts = new Array<string>(data.length);
      for (let i = 0; i < data.length; i++) parts[i] = data[i] ? 'true' : 'false';
      return `[${parts.join(',')}]`;
    }
    case 'FP16': {
      const t = halfTable();
      const bits = data as ArrayLike<number>;
      const values = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) values[i] = t[bits[i] & 0xffff];
      return floatText(values);
    }
    case 'FP32':
    case 'FP64':
      return floatText(data as ArrayLike<number>);
    default:
      // Integer types, 64-bit ones included: BigInt arrays join to exact decimal digits.
      return `[${(tensor.data as { join(separator: string): string }).join(',')}]`;
  }
}
