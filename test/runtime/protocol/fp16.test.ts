import fc from 'fast-check';
import { halfBitsToNumber, halfsToFloat32, toHalfBits } from '../../../runtime/protocol/fp16';

describe('fp16: known values', () => {
  test.each<[number, number]>([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65519.99, 0x7bff],
    [65520, 0x7c00], // halfway to 2^16 ties to even: Infinity
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [0, 0x0000],
    [-0, 0x8000],
    [6.103515625e-5, 0x0400], // smallest normal, 2^-14
    [6.1e-5, 0x03ff], // just below it: the largest subnormal is nearest
    [5.96e-8, 0x0001], // smallest subnormal, 2^-24 ≈ 5.9604645e-8
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and 2^-24: even (0)
    [2 ** -25 * 1.0000001, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps: even (2)
    [1 + 2 ** -11, 0x3c00], // tie: stays at the even mantissa
    [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds up to the even mantissa
    [1 + 2 ** -11 + 2 ** -30, 0x3c01], // just past the tie
    [2049, 0x6800], // 2048, ties to even
    [2051, 0x6802], // 2052
    [0.1, 0x2e66],
    [-65504, 0xfbff],
    [2 ** -14 - 2 ** -25, 0x0400], // tie between largest subnormal (odd) and smallest normal (even)
  ])('%p → %p', (value, bits) => {
    expect(toHalfBits(value)).toBe(bits);
  });

  test('NaN is the quiet NaN, and every NaN pattern decodes to NaN', () => {
    expect(toHalfBits(NaN)).toBe(0x7e00);
    expect(halfBitsToNumber(0x7e00)).toBeNaN();
    expect(halfBitsToNumber(0x7c01)).toBeNaN();
    expect(halfBitsToNumber(0xffff)).toBeNaN();
  });

  test('decoding known patterns', () => {
    expect(halfBitsToNumber(0x3c00)).toBe(1);
    expect(halfBitsToNumber(0x7bff)).toBe(65504);
    expect(halfBitsToNumber(0x0001)).toBe(2 ** -24);
    expect(halfBitsToNumber(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfBitsToNumber(0x0400)).toBe(2 ** -14);
    expect(halfBitsToNumber(0x7c00)).toBe(Infinity);
    expect(halfBitsToNumber(0xfc00)).toBe(-Infinity);
    expect(Object.is(halfBitsToNumber(0x8000), -0)).toBe(true);
  });

  test('every non-NaN half survives number → half exactly, and is exact in float32', () => {
    const table = halfsToFloat32(Uint16Array.from({ length: 65536 }, (_, i) => i));
    const bad: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const v = halfBitsToNumber(b);
      if (Number.isNaN(v)) continue;
      if (toHalfBits(v) !== b || Math.fround(v) !== v || !Object.is(table[b], v)) bad.push(b);
    }
    expect(bad).toEqual([]);
  });
});

/** Reference float32 → half by integer operations on the float32 bits (a different algorithm). */
function referenceFromFloat32(x: number): number {
  const f = new Float32Array([x]);
  const b = new Uint32Array(f.buffer)[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return mant ? 0x7e00 : sign | 0x7c00;
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

describe('fp16: rounding property', () => {
  // Reference: the result is no farther from x than either neighbouring half, and on a tie it is even.
  test('toHalfBits is round-to-nearest-even for any double in range', () => {
    fc.assert(
      fc.property(fc.double({ min: -65519.99, max: 65519.99, noNaN: true }), (x) => {
        const h = toHalfBits(x);
        const v = halfBitsToNumber(h);
        const mag = h & 0x7fff;
        const neighbours = [mag - 1, mag + 1].filter((m) => m >= 0 && m < 0x7c00).map((m) => halfBitsToNumber(m | (h & 0x8000)));
        if (x !== 0 && mag !== 0) expect(Math.sign(v)).toBe(Math.sign(x));
        for (const n of neighbours) {
          const d = Math.abs(x - v);
          const dn = Math.abs(x - n);
          expect(d).toBeLessThanOrEqual(dn);
          if (d === dn) expect(mag % 2).toBe(0);
        }
      }),
      { numRuns: 5000 },
    );
  });

  test('agrees with an integer-bit reference conversion on float32 inputs (incl. NaN, ±inf, subnormals)', () => {
    fc.assert(
      fc.property(fc.float(), (x) => {
        expect(toHalfBits(x)).toBe(referenceFromFloat32(x));
      }),
      { numRuns: 20000 },
    );
    // Dense sweep around the tie points of the subnormal/normal boundary and the top of the range.
    for (const x of [2 ** -25, 3 * 2 ** -25, 2 ** -14, 65504, 65519, 65520, 65535]) {
      for (let k = -8; k <= 8; k++) {
        const y = new Float32Array([x]);
        const u = new Uint32Array(y.buffer);
        u[0] += k;
        expect(toHalfBits(y[0])).toBe(referenceFromFloat32(y[0]));
      }
    }
  });
});
