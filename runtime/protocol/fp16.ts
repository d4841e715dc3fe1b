/**
 * IEEE 754 binary16 ("half") conversion. Values are rounded straight from float64 to half with
 * round-to-nearest, ties-to-even (no intermediate float32, so no double rounding); overflow goes
 * to ±Infinity, underflow to subnormals and ±0, NaN to the quiet NaN 0x7e00.
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Index of the high 32-bit word of a float64 on this host.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

const TWO_24 = 2 ** 24;
const MIN_NORMAL = 2 ** -14;
/** Halfway between the largest half (65504) and 2^16: at or above it rounds to Infinity (65504 has an odd mantissa). */
const OVERFLOW = 65520;

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The half-precision bit pattern nearest to `value`. */
export function toHalfBits(value: number): number {
  if (value !== value) return 0x7e00;
  const sign = value < 0 || (value === 0 && 1 / value < 0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= OVERFLOW) return sign | 0x7c00;
  if (a < MIN_NORMAL) {
    // Subnormal: a = m · 2^-24. m = 1024 carries into the smallest normal, 0x0400, as it should.
    return sign | roundHalfEven(a * TWO_24);
  }
  f64[0] = a;
  const e = ((u32[HI] >>> 20) & 0x7ff) - 1023; // exact binary exponent, -14 ≤ e ≤ 15
  // a · 2^(10-e) lies in [1024, 2048); scaling by a power of two is exact.
  const m = roundHalfEven(a * 2 ** (10 - e));
  // m = 2048 carries into the exponent field, which is exactly right (and 65520 was handled above).
  return sign | (((e + 15) << 10) + (m - 1024));
}

/** The value of a half-precision bit pattern. */
export function halfBitsToNumber(bits: number): number {
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  const s = bits & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1024 + m) * 2 ** (e - 25);
}

let table: Float32Array | undefined;
/** All 65536 half values as float32 (exact: every half is a float32), built on first use. */
export function halfTable(): Float32Array {
  if (table === undefined) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = halfBitsToNumber(i);
  }
  return table;
}

/** Half bit patterns → numbers. */
export function halfsToFloat32(bits: Uint16Array): Float32Array {
  const t = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}
