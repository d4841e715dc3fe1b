/**
 * Gives back, once the server goes quiet, the garbage a burst left in V8's heap.
 *
 * The runtime starts with a floor under V8's old generation (node-flags.ts), so that under load V8
 * does not run a full GC every ~100 ms. The other side of that floor: garbage promoted during a
 * burst stays until the old generation reaches the floor, and V8's own memory reducer only runs
 * after a full GC, so after 10,000 fuzzed requests RSS stayed 13.5 % above its idle level for as
 * long as it was watched (20 s; without the floor it came back by itself). A JVM has the same
 * trade-off and the same answer (G1's periodic collection when idle): here, when no request has
 * arrived for `idleMs` and the heap has grown by `minGrowthBytes` since the last collection this
 * class made (and at most once per `minIntervalMs`), it runs one full GC. It never runs while requests arrive, so it never competes
 * with serving.
 *
 * `collect` is V8's gc(), present when node runs with --expose-gc (SERVE_NODE_FLAGS); without it
 * the trim is off (in-process tests, a node started by hand).
 */
export interface IdleHeapTrimOptions {
  collect: () => void;
  /** Bytes used in V8's heap now. */
  heapUsed: () => number;
  /** Quiet time (no request arriving) before a trim. */
  idleMs?: number;
  /** Growth of the heap since the last trim below which nothing is done. */
  minGrowthBytes?: number;
  /** How often to look. */
  checkMs?: number;
  /** Least time between two trims. */
  minIntervalMs?: number;
  now?: () => number;
}

/**
 * Half a second of quiet (a pause between a client's bursts is shorter than that, or the pause is
 * long enough that one collection of a few ms does not matter), at most one trim per 5 s.
 */
export const IDLE_TRIM_DEFAULTS = { idleMs: 500, minGrowthBytes: 8 * 1024 * 1024, checkMs: 100, minIntervalMs: 5000 };

export class IdleHeapTrim {
  private readonly idleMs: number;
  private readonly minGrowthBytes: number;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  /** Requests seen (activity() only counts: no clock read per request); check() notes when it moved. */
  private requests = 0;
  private requestsSeen = 0;
  private lastRequestAt: number;
  private lastTrimAt = -Infinity;
  private baseline: number;
  private timer?: NodeJS.Timeout;
  /** Full collections this trim has run. */
  trims = 0;

  constructor(private readonly options: IdleHeapTrimOptions) {
    this.idleMs = options.idleMs ?? IDLE_TRIM_DEFAULTS.idleMs;
    this.minGrowthBytes = options.minGrowthBytes ?? IDLE_TRIM_DEFAULTS.minGrowthBytes;
    this.minIntervalMs = options.minIntervalMs ?? IDLE_TRIM_DEFAULTS.minIntervalMs;
    this.now = options.now ?? (() => performance.now());
    this.lastRequestAt = this.now();
    this.baseline = options.heapUsed();
  }

  /** A request arrived (called for every request: one increment). */
  activity(): void {
    this.requests++;
  }

  /** One look: trims when quiet and grown; returns whether it did. */
  check(): boolean {
    const now = this.now();
    if (this.requests !== this.requestsSeen) {
      this.requestsSeen = this.requests;
      this.lastRequestAt = now;
    }
    if (now - this.lastRequestAt < this.idleMs || now - this.lastTrimAt < this.minIntervalMs) return false;
    if (this.options.heapUsed() - this.baseline < this.minGrowthBytes) return false;
    this.options.collect();
    this.trims++;
    this.lastTrimAt = this.now();
    this.baseline = this.options.heapUsed();
    return true;
  }

  start(): this {
    this.timer = setInterval(() => this.check(), this.options.checkMs ?? IDLE_TRIM_DEFAULTS.checkMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** V8's gc() when node runs with --expose-gc, else undefined. */
export function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  return typeof gc === 'function' ? gc : undefined;
}
