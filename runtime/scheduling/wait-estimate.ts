/**
 * Admission by estimated queue wait, from measured execution cost and queue depth, for requests
 * that carry a deadline: a request whose estimated wait already exceeds its timeout (Triton's
 * default_timeout_microseconds, lowered by the request's `timeout`) would expire in the queue,
 * so it is answered 503 at once, before its body is read, instead of being accepted, buffered and
 * dropped later:
 *
 *   estimated wait = (ahead + 1) × execution time per request / instances
 *
 * where `ahead` counts the requests waiting and those already handed to a worker but not finished
 * (a worker holds the batch it runs and the next one): all of them run before the new one starts.
 *
 * (moving averages of the time inside session.run, per request, so it does not matter how the
 * batches happened to form; not the wall time from dispatch to result, which under overload also
 * holds event-loop lag: that inflated the estimate until almost every request was shed). Without a timeout only the queue length bounds admission: a default
 * bound of a few execution latencies was measured to turn closed-loop clients into a storm of
 * immediate 503s that starved the accepted requests (see the README's Performance section).
 */

/** Weight of the newest execution in the moving average. */
const ALPHA = 0.2;

export class WaitEstimator {
  private perRequestUs = 0;
  private samples = 0;

  constructor(private readonly workers: number) {}

  /** One execution finished: its time inside session.run, and how many requests it served. */
  record(latencyUs: number, requests: number): void {
    const cost = latencyUs / Math.max(1, requests);
    this.perRequestUs = this.samples === 0 ? cost : this.perRequestUs + ALPHA * (cost - this.perRequestUs);
    this.samples++;
  }

  /** Estimated wait of a request arriving behind `ahead` others until it starts, µs (undefined until measured). */
  estimateUs(ahead: number): number | undefined {
    if (this.samples === 0) return undefined;
    return ((ahead + 1) * this.perRequestUs) / Math.max(1, this.workers);
  }
}
