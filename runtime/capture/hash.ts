/**
 * 32-bit string hashing for the shard ring and for sampling: FNV-1a over the UTF-16 code units,
 * finished with an avalanche mix so that similar keys ("req-1", "req-2") land far apart.
 */
export function hash32(key: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h ^= c & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= c >>> 8;
    h = Math.imul(h, 0x01000193);
  }
  // Avalanche finalizer (xor-shift-multiply).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SAMPLING_SEED = 0x5a17;

/**
 * Deterministic sampling: a record key is sampled when its hash falls in the first `percentage`
 * of the hash space. Records sharing a partition key are sampled together, and a test (or an
 * auditor) can recompute which requests were sampled.
 */
export function isSampled(key: string, percentage: number): boolean {
  if (percentage >= 100) return true;
  if (percentage <= 0) return false;
  return hash32(key, SAMPLING_SEED) < (percentage / 100) * 0x1_0000_0000;
}
