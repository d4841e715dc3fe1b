/**
 * A queue that stood full is kept short. When requests arrive faster than a version executes them
 * (an open loop beyond capacity), its queue fills to max_queue_size and stays full: every
 * accepted request then waits for the whole queue ahead of it (128 requests at ~1,600/s is ~80 ms
 * on the CNN) and the queue adds nothing but that wait, since the workers would stay busy with a
 * much shorter one (CoDel's standing queue). So once the queue has been full, the requests beyond
 * a short line (one preferred batch per instance, what keeps every instance busy) are shed
 * oldest first, and admission keeps to that line.
 *
 * Closed-loop clients (each waiting for its answer before sending again) never fill a queue
 * longer than their number, so a queue that fills is the sign of an open loop; but clients that
 * resend the moment they are refused would keep a short line's sheds going forever. So the rule
 * lapses after STANDING_PROBE_MS: the full max_queue_size admits again, and an open loop that
 * still outruns execution fills it and brings the rule back, while closed-loop clients settle
 * below it (measured before this rule: bounding the queue that short for good turned c=32
 * closed-loop clients into a storm of immediate 503s, 597 answered/s instead of 1,364).
 */

/** How long the short line holds after the queue stood full, before max_queue_size admits again. */
export const STANDING_PROBE_MS = 1000;

export class StandingQueueRule {
  private since: number | undefined;

  constructor(
    /** Requests kept waiting while the rule holds: one preferred batch per instance. */
    readonly shortLine: number,
    private readonly probeMs = STANDING_PROBE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True while the short line holds (since the queue was last full, for probeMs). */
  get holding(): boolean {
    if (this.since === undefined) return false;
    if (this.now() - this.since < this.probeMs) return true;
    this.since = undefined;
    return false;
  }

  /** The admission limit now: the short line while the rule holds, else max_queue_size. */
  limit(maxQueueSize: number): number {
    return this.holding ? Math.min(this.shortLine, maxQueueSize) : maxQueueSize;
  }

  /** The queue was full at max_queue_size: the short line holds from now. */
  stood(): void {
    this.since = this.now();
  }
}
