/**
 * Admission by estimated queue wait, from measured execution latency and queue depth, instead of
 * by queue length alone: a queue of 128 CNN images is seconds of work, of 128 iris rows a few
 * milliseconds. A request that would wait longer than its bound is answered 503 at once (before
 * its body is read), rather than accepted only to be answered late:
 *
 *   estimated wait = ⌈(waiting + 1) / requests per execution⌉ × execution latency / workers
 *
 * (moving averages of what the executor measured). The bound is the request's timeout when one
 * applies (Triton's default_timeout_microseconds or the request's `timeout`: it would expire in
 * the queue anyway), else MAX_WAIT_EXECUTIONS execution latencies (at least MIN_WAIT_BOUND_US,
 * so a burst on a µs-scale model is queued, not shed): a request that is admitted runs within the
 * next few executions, so under overload accepted latency stays bounded and the rest is shed
 * cheaply. Eight, not two: a burst of a few requests per worker is ordinary load, not overload,
 * and must not be shed (a lower bound trades such bursts for tighter latency under overload;
 * give the model a default_timeout_microseconds to choose the bound in time).
 */

/** Without a timeout, admitted requests wait at most about this many execution latencies. */
export const MAX_WAIT_EXECUTIONS = 8;

/** The default bound never goes below this, µs. */
export const MIN_WAIT_BOUND_US = 10_000;

/** Weight of the newest execution in the moving averages. */
const ALPHA = 0.2;

export class WaitEstimator {
  private latencyUs = 0;
  private perExecution = 0;
  private samples = 0;

  constructor(private readonly workers: number) {}

  /** One execution finished: its wall time from dispatch to result, and how many requests it served. */
  record(latencyUs: number, requests: number): void {
    if (this.samples === 0) {
      this.latencyUs = latencyUs;
      this.perExecution = requests;
    } else {
      this.latencyUs += ALPHA * (latencyUs - this.latencyUs);
      this.perExecution += ALPHA * (requests - this.perExecution);
    }
    this.samples++;
  }

  /** Moving average of an execution's latency, µs (undefined before the first execution). */
  get executionUs(): number | undefined {
    return this.samples > 0 ? this.latencyUs : undefined;
  }

  /** Estimated queue wait of a request arriving behind `waiting` others, µs (undefined until measured). */
  estimateUs(waiting: number): number | undefined {
    if (this.samples === 0) return undefined;
    const executions = Math.ceil((waiting + 1) / Math.max(1, this.perExecution));
    return (executions * this.latencyUs) / Math.max(1, this.workers);
  }

  /** The default bound on estimated wait (no timeout configured), µs. */
  defaultBoundUs(): number | undefined {
    return this.samples > 0 ? Math.max(MIN_WAIT_BOUND_US, MAX_WAIT_EXECUTIONS * this.latencyUs) : undefined;
  }
}
