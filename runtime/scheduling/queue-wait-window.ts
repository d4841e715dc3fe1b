/**
 * Queue-wait quantiles over a sliding window, cheap enough to record on every request: a
 * log-spaced histogram (8 buckets per doubling, so a quantile is within 9 % of the true value) per
 * time slice of half the window; a quantile reads the current slice and the one before it, i.e.
 * the observations of the last `windowMs / 2` to `windowMs`. Recording is an index computation and an
 * increment; reading (at scrape and publish time) walks about 200 counters.
 */

/** Buckets per doubling of the value. */
const PER_OCTAVE = 8;
/** Values up to 2^28 µs (about 4.5 min) get their own bucket; larger ones share the last. */
const BUCKETS = 28 * PER_OCTAVE + 1;

export function bucketOf(us: number): number {
  if (!(us >= 1)) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log2(us) * PER_OCTAVE));
}

/** The upper bound of a bucket (what a quantile reports: never below the true value by more than the bucket width). */
export function bucketUpperUs(index: number): number {
  return index === 0 ? 1 : 2 ** (index / PER_OCTAVE);
}

export class QueueWaitWindow {
  private current = new Uint32Array(BUCKETS);
  private previous = new Uint32Array(BUCKETS);
  private sliceStart: number;

  /** `windowMs`: the span a quantile covers at most; slices are half of it. */
  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sliceStart = now();
  }

  private rotate(): void {
    const t = this.now();
    const slice = this.windowMs / 2;
    if (t - this.sliceStart < slice) return;
    if (t - this.sliceStart >= 2 * slice) this.previous.fill(0);
    else [this.previous, this.current] = [this.current, this.previous];
    this.current.fill(0);
    this.sliceStart = t - ((t - this.sliceStart) % slice);
  }

  observe(us: number): void {
    this.rotate();
    this.current[bucketOf(us)]++;
  }

  /** Observations in the window. */
  count(): number {
    this.rotate();
    let n = 0;
    for (let i = 0; i < BUCKETS; i++) n += this.current[i] + this.previous[i];
    return n;
  }

  /** The q-quantile (0 < q ≤ 1) in µs, or 0 when nothing was observed in the window (an idle queue waits 0). */
  quantile(q: number): number {
    const total = this.count();
    if (total === 0) return 0;
    const rank = Math.ceil(q * total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.current[i] + this.previous[i];
      if (seen >= rank) return bucketUpperUs(i);
    }
    return bucketUpperUs(BUCKETS - 1);
  }
}
