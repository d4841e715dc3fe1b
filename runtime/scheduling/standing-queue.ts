/**
 * A queue that stood full is kept short. When requests arrive faster than a version executes them
 * (an open loop beyond capacity), its queue fills to max_queue_size and stays full: every
 * accepted request then waits for the whole queue ahead of it (128 requests at ~1,600/s is ~80 ms
 * on the CNN) and the queue adds nothing but that wait, since the workers would stay busy with a
 * much shorter one (CoDel's standing queue). So once the queue has been full, the requests beyond
 * a short line (one preferred batch per instance, what keeps every instance busy) are shed
 * oldest first, and admission keeps to that line.
 *
 * The line holds for as long as arrivals keep outrunning execution: every STANDING_PROBE_MS it
 * compares the requests the line refused with those it admitted, and holds for another interval
 * while it refused more than STANDING_OVERLOAD times what it admitted (arrivals beyond twice what
 * the version executes); after an interval with fewer refusals max_queue_size admits again.
 * Lapsing on a fixed clock instead let an open loop that still outran execution refill the full
 * queue every probe, and the requests admitted in each refill waited the whole queue (measured at
 * 3× open loop: accepted p99 131–328 ms with a 1 s lapse). An idle instance is not the signal
 * either: on a contended box the event loop wakes late, finds several executions ended at once and
 * empties the short line into them with an instance to spare (measured: the rule lapsed and
 * refilled 4 times in 4 s at 3×).
 *
 * Closed-loop clients (each waiting for its answer before sending again) never fill a queue
 * longer than their number, so the bench's c=32 and c=128 cells never meet the rule. More
 * closed-loop clients than max_queue_size already spin on immediate 503s with or without it
 * (only which ones spin changes), and those that resend at once keep the queue standing either way.
 */

/** How often a holding short line checks whether arrivals still outrun execution. */
export const STANDING_PROBE_MS = 1000;

/**
 * The line holds while it refuses more than this many times what it admits: arrivals beyond twice
 * what the version executes. Nearer capacity the line lapses every probe as before, because there
 * refusals are also the slow spells of a machine whose speed varies (±25 % within minutes on a
 * shared host), which a full-length queue rides out: with a tenth, the line could hold through
 * them and refuse what the queue would have served.
 */
export const STANDING_OVERLOAD = 1;

export class StandingQueueRule {
  /** When the current probe interval began; undefined while the rule does not hold. */
  private since: number | undefined;
  private admittedSince = 0;
  private refusedSince = 0;

  constructor(
    /** Requests kept waiting while the rule holds: one preferred batch per instance. */
    readonly shortLine: number,
    private readonly probeMs = STANDING_PROBE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * True while the short line holds: from the moment the queue stood full, renewed at the end of
   * every probe interval in which arrivals still outran execution, dropped after one in which not.
   */
  get holding(): boolean {
    if (this.since === undefined) return false;
    const now = this.now();
    if (now - this.since < this.probeMs) return true;
    if (this.refusedSince === 0 || this.refusedSince <= this.admittedSince * STANDING_OVERLOAD) {
      this.since = undefined;
      return false;
    }
    this.begin(now);
    return true;
  }

  /** The admission limit now: the short line while the rule holds, else max_queue_size. */
  limit(maxQueueSize: number): number {
    return this.holding ? Math.min(this.shortLine, maxQueueSize) : maxQueueSize;
  }

  /** The queue was full at max_queue_size: the short line holds from now. */
  stood(): void {
    this.begin(this.now());
  }

  /** A request joined the queue. */
  admitted(): void {
    this.admittedSince++;
  }

  /** A request was refused because the queue was full (at the short line while the rule holds). */
  refused(): void {
    this.refusedSince++;
  }

  private begin(now: number): void {
    this.since = now;
    this.admittedSince = 0;
    this.refusedSince = 0;
  }
}
