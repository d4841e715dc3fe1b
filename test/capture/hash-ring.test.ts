import fc from 'fast-check';
import { HashRing } from '../../runtime/capture/hash-ring';
import { isSampled } from '../../runtime/capture/hash';

const shardIds = (n: number, salt: string) => Array.from({ length: n }, (_, i) => `s3://${salt}-shard-${i}/`);
const keys = (n: number, salt: string) => Array.from({ length: n }, (_, i) => `${salt}-req-${i}`);

describe('consistent hash ring', () => {
  test('adding a shard moves about 1/(N+1) of the keys, all of them to the new shard', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), (n, salt, keySalt) => {
        const before = new HashRing(shardIds(n, salt));
        const added = `s3://${salt}-new/`;
        const after = new HashRing([...shardIds(n, salt), added]);
        const ks = keys(3000, keySalt);
        let moved = 0;
        let elsewhere = 0;
        for (const k of ks) {
          const a = before.shardFor(k);
          const b = after.shardFor(k);
          if (a !== b) {
            moved++;
            if (b !== added) elsewhere++;
          }
        }
        expect(elsewhere).toBe(0); // keys never move between old shards
        const expected = ks.length / (n + 1);
        // 160 virtual nodes per shard: the new shard's share stays within ±45 % of 1/(N+1).
        expect(moved).toBeGreaterThan(expected * 0.55);
        expect(moved).toBeLessThan(expected * 1.45);
      }),
      { numRuns: 30 },
    );
  });

  test('removing a shard moves only that shard\'s keys', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.nat(), fc.string({ maxLength: 6 }), (n, pick, salt) => {
        const ids = shardIds(n, salt);
        const gone = ids[pick % n];
        const before = new HashRing(ids);
        const after = new HashRing(ids.filter((s) => s !== gone));
        let wrong = 0;
        for (const k of keys(1500, salt)) {
          const a = before.shardFor(k);
          if (a !== gone && after.shardFor(k) !== a) wrong++;
        }
        expect(wrong).toBe(0);
      }),
      { numRuns: 20 },
    );
  });

  test('routing does not depend on the order shards are listed in', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(shardIds(8, 'x'), { minLength: 1 }), fc.array(fc.string(), { maxLength: 50 }), (ids, ks) => {
        const a = new HashRing(ids);
        const b = new HashRing([...ids].reverse());
        expect(ks.map((k) => a.shardFor(k))).toEqual(ks.map((k) => b.shardFor(k)));
      }),
    );
  });

  test('keys spread evenly over shards', () => {
    const ring = new HashRing(shardIds(3, 'even'));
    const counts = new Map<string, number>();
    for (const k of keys(30_000, 'even')) counts.set(ring.shardFor(k), (counts.get(ring.shardFor(k)) ?? 0) + 1);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(1500);
  });

  test('deterministic sampling takes about the configured share', () => {
    const ks = keys(20_000, 'sample');
    expect(ks.filter((k) => isSampled(k, 0)).length).toBe(0);
    expect(ks.filter((k) => isSampled(k, 100)).length).toBe(20_000);
    const half = ks.filter((k) => isSampled(k, 50)).length;
    expect(Math.abs(half - 10_000)).toBeLessThan(400);
    const tenth = ks.filter((k) => isSampled(k, 10)).length;
    expect(Math.abs(tenth - 2000)).toBeLessThan(200);
  });

  test('rejects empty or duplicate shard lists', () => {
    expect(() => new HashRing([])).toThrow('at least one shard');
    expect(() => new HashRing(['a', 'a'])).toThrow('unique');
  });
});
