/**
 * Facts about the Open Inference Protocol datatypes shared by the JSON and binary codecs:
 * element sizes, storage allocation, integer ranges, and how shapes and values are printed
 * in error messages.
 */
import { invalidArgument } from '../errors';
import type { Datatype, TensorData } from './types';

export const DATATYPES: readonly Datatype[] = ['BOOL', 'UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'UINT64', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];

const SIZES: Record<Datatype, number> = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8, BYTES: 0,
};

/** Largest element count a tensor may declare (2^31): keeps products exact and allocations sane. */
export const MAX_ELEMENTS = 2 ** 31;

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SIZES, value);
}

/** Bytes per element in the binary layout; 0 for BYTES (variable length). */
export function elementSize(datatype: Datatype): number {
  return SIZES[datatype];
}

type FixedSize = Exclude<Datatype, 'BYTES'>;
type TypedStorage = Exclude<TensorData, string[]>;
type StorageCtor = { new (count: number): TypedStorage; new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedStorage };

/** The typed array that holds each fixed-size datatype (FP16 as its raw 16-bit words). */
const STORAGE: Record<FixedSize, StorageCtor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  FP16: Uint16Array,
  INT16: Int16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP32: Float32Array,
  FP64: Float64Array,
} as Record<FixedSize, StorageCtor>;

/** Zero-filled storage of `count` elements in the layout of `TensorData` for this datatype. */
export function allocate(datatype: Datatype, count: number): TensorData {
  if (datatype === 'BYTES') return new Array<string>(count).fill('');
  return new STORAGE[datatype](count);
}

/** `count` elements of a fixed-size datatype viewed in place over `bytes` (aligned for the type by the caller). */
export function viewOf(datatype: FixedSize, bytes: Uint8Array, count: number): TensorData {
  return new STORAGE[datatype](bytes.buffer, bytes.byteOffset, count);
}

/** Inclusive ranges of the integer types that fit a JS number exactly. */
export const INT_RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  INT8: [-0x80, 0x7f],
  UINT16: [0, 0xffff],
  INT16: [-0x8000, 0x7fff],
  UINT32: [0, 0xffffffff],
  INT32: [-0x80000000, 0x7fffffff],
};

export const BIG_RANGES = {
  UINT64: [0n, 0xffffffffffffffffn] as const,
  INT64: [-0x8000000000000000n, 0x7fffffffffffffffn] as const,
};

/** `[2,-1,4]`: the compact form used in every message. */
export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.map((d) => (typeof d === 'number' || typeof d === 'bigint' ? String(d) : describe(d))).join(',')}]`;
}

/** A short, safe rendering of a JSON value received from a client, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  switch (typeof value) {
    case 'string': {
      const s = value.length > 40 ? `${value.slice(0, 40)}…` : value;
      return `string ${JSON.stringify(s)}`;
    }
    case 'number':
      return `number ${String(value)}`;
    case 'bigint':
      return `number ${value.toString()}`;
    case 'boolean':
      return `boolean ${String(value)}`;
    default:
      return Array.isArray(value) ? `an array of ${value.length}` : 'an object';
  }
}

/** Product of the dimensions, rejecting counts above MAX_ELEMENTS before they can lose precision. */
export function elementCount(name: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > MAX_ELEMENTS) break;
  }
  if (!(n <= MAX_ELEMENTS)) throw invalidArgument(`input '${name}': shape ${formatShape(shape)} has more than 2^31 elements`);
  return n;
}
