/**
 * Consistent hashing with virtual nodes: each shard owns `vnodes` points on a 32-bit ring, and a
 * key belongs to the shard owning the first point at or after the key's hash (wrapping). Adding
 * a shard takes about 1/(N+1) of the keys, all of them moving to the new shard; removing one
 * moves only that shard's keys. Points depend only on shard ids, so every process that knows
 * the same shard list routes every key the same way.
 */
import { hash32 } from './hash';

export const DEFAULT_VNODES = 160;

export class HashRing<S extends string = string> {
  private readonly points: Uint32Array;
  private readonly owners: S[];

  constructor(
    readonly shards: readonly S[],
    readonly vnodes = DEFAULT_VNODES,
  ) {
    if (shards.length === 0) throw new Error('a hash ring needs at least one shard');
    if (new Set(shards).size !== shards.length) throw new Error(`shard ids must be unique: ${shards.join(', ')}`);
    if (!Number.isInteger(vnodes) || vnodes < 1) throw new Error(`vnodes must be a positive integer, got ${vnodes}`);
    const all: Array<{ point: number; owner: S }> = [];
    for (const shard of shards) {
      for (let i = 0; i < vnodes; i++) all.push({ point: hash32(`${shard}#${i}`), owner: shard });
    }
    // Ties (two shards hashing to the same point) are broken by shard id, so order of the list never matters.
    all.sort((a, b) => a.point - b.point || (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
    this.points = Uint32Array.from(all, (p) => p.point);
    this.owners = all.map((p) => p.owner);
  }

  /** The shard that owns `key`. */
  shardFor(key: string): S {
    const h = hash32(key);
    const points = this.points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === points.length ? 0 : lo];
  }
}
