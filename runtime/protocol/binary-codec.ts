/**
 * The binary tensor extension's layout: little-endian, row-major, no padding; BOOL one byte
 * (0 or 1) per element; each BYTES element a uint32 LE length followed by its bytes.
 */
import { isUtf8 } from 'node:buffer';
import os from 'node:os';
import { invalidArgument } from '../errors';
import { allocate, elementSize, formatShape, viewOf } from './datatypes';
import type { Datatype, Tensor, TensorData } from './types';

const BIG_ENDIAN = os.endianness() === 'BE';

function swapInPlace(bytes: Buffer, size: number): void {
  if (size === 2) bytes.swap16();
  else if (size === 4) bytes.swap32();
  else if (size === 8) bytes.swap64();
}

/** Parse `count` length-prefixed UTF-8 strings that must fill `bytes` exactly. */
function decodeBytesElements(name: string, shape: readonly number[], count: number, bytes: Buffer): string[] {
  const out = new Array<string>(count);
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + 4 > bytes.length) {
      throw invalidArgument(`input '${name}': binary BYTES data ends after ${i} of the ${count} elements shape ${formatShape(shape)} needs (${bytes.length} bytes)`);
    }
    const len = bytes.readUInt32LE(off);
    off += 4;
    if (len > bytes.length - off) {
      throw invalidArgument(`input '${name}': BYTES element ${i} has length ${len}, which runs past the tensor's ${bytes.length} bytes (${bytes.length - off} left)`);
    }
    const s = bytes.subarray(off, off + len);
    if (!isUtf8(s)) throw invalidArgument(`input '${name}': BYTES element ${i} is not valid UTF-8 (this server passes BYTES to the model as strings)`);
    out[i] = s.toString('utf8');
    off += len;
  }
  if (off !== bytes.length) {
    throw invalidArgument(`input '${name}': binary BYTES data has ${bytes.length - off} bytes left over after the ${count} elements shape ${formatShape(shape)} needs`);
  }
  return out;
}

/** Number of length-prefixed BYTES elements in `bytes` (for raw binary requests). */
export function countBytesElements(name: string, bytes: Buffer): number {
  let off = 0;
  let n = 0;
  while (off < bytes.length) {
    if (off + 4 > bytes.length) throw invalidArgument(`input '${name}': binary BYTES data ends in the middle of element ${n}'s length prefix`);
    const len = bytes.readUInt32LE(off);
    off += 4;
    if (len > bytes.length - off) throw invalidArgument(`input '${name}': BYTES element ${n} has length ${len}, which runs past the end of the data (${bytes.length - off} bytes left)`);
    off += len;
    n++;
  }
  return n;
}

/** Below this size a tensor's bytes are copied: a view would keep its whole body alive for little gain. */
const IN_PLACE_MIN_BYTES = 4096;

/**
 * One input's raw bytes as typed storage. A large tensor whose bytes sit aligned for its element
 * type (the body reader aligns the binary part: alignedBody) is viewed in place on a little-endian
 * host; else it is copied into fresh, aligned storage (a Buffer slice may sit at any offset). The
 * copy was 4 % of the main thread at 3× overload with a 110 KB CNN input, plus the GC of one more
 * 110 KB buffer per request (issue 15). Fixed-size callers guarantee
 * `bytes.length === count * elementSize(datatype)`.
 */
export function decodeBinaryData(name: string, datatype: Datatype, shape: readonly number[], count: number, bytes: Buffer): TensorData {
  if (datatype === 'BYTES') return decodeBytesElements(name, shape, count, bytes);
  const size = elementSize(datatype);
  if (bytes.length !== count * size) {
    throw invalidArgument(`input '${name}': shape ${formatShape(shape)} needs ${count * size} bytes of ${datatype}, got ${bytes.length}`);
  }
  const inPlace = !BIG_ENDIAN && bytes.length >= IN_PLACE_MIN_BYTES && bytes.byteOffset % size === 0;
  const out = (inPlace ? viewOf(datatype, bytes, count) : allocate(datatype, count)) as Exclude<TensorData, string[]>;
  const view = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  if (!inPlace) bytes.copy(view);
  if (BIG_ENDIAN && size > 1) swapInPlace(view, size);
  if (datatype === 'BOOL') {
    const b = out as Uint8Array;
    for (let i = 0; i < b.length; i++) {
      if (b[i] > 1) throw invalidArgument(`input '${name}': BOOL element ${i} is the byte ${b[i]}, expected 0 or 1`);
    }
  }
  return out;
}

/** Byte size of a tensor in the binary layout. */
export function binaryByteSize(tensor: Tensor): number {
  if (tensor.datatype !== 'BYTES') return tensor.data.length * elementSize(tensor.datatype);
  let n = 0;
  for (const s of tensor.data as string[]) n += 4 + Buffer.byteLength(s, 'utf8');
  return n;
}

/** A tensor's data in the binary layout. Views the tensor's memory when it can (little-endian hosts). */
export function encodeBinaryData(tensor: Tensor): Buffer {
  const { datatype } = tensor;
  if (datatype === 'BYTES') {
    const strings = tensor.data as string[];
    const out = Buffer.allocUnsafe(binaryByteSize(tensor));
    let off = 0;
    for (const s of strings) {
      const len = out.write(s, off + 4, 'utf8');
      out.writeUInt32LE(len, off);
      off += 4 + len;
    }
    return out;
  }
  const size = elementSize(datatype);
  let data = tensor.data as Exclude<TensorData, string[]>;
  if (!ArrayBuffer.isView(data) || data.BYTES_PER_ELEMENT !== size) {
    // Not the storage TensorData prescribes (e.g. a plain array): convert element by element.
    const src = tensor.data as ArrayLike<number | bigint | boolean>;
    const conv = allocate(datatype, src.length) as Exclude<TensorData, string[]>;
    const big = datatype === 'INT64' || datatype === 'UINT64';
    for (let i = 0; i < src.length; i++) (conv as unknown as Array<number | bigint>)[i] = big ? BigInt(src[i] as number) : Number(src[i]);
    data = conv;
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (datatype === 'BOOL') {
    // Normalise any non-zero byte to 1, as the extension requires.
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] > 1) {
        const copy = Buffer.from(bytes);
        for (let j = i; j < copy.length; j++) if (copy[j] > 1) copy[j] = 1;
        return copy;
      }
    }
  }
  if (BIG_ENDIAN && size > 1) {
    const copy = Buffer.from(bytes);
    swapInPlace(copy, size);
    return copy;
  }
  return bytes;
}
