/**
 * One model version's queue of accepted requests: bounded (full → 503 at once), with per-request
 * deadlines (expired → 503, never run). The dispatcher takes work from it when a worker is free.
 */
import { shedError } from '../errors';
import type { InferRequest, Tensor } from '../protocol/types';
import type { QueuePolicy } from '../models/model-config';
import { QUEUE_WAIT_WINDOW_MS } from '../contract';
import { QueueWaitWindow } from './queue-wait-window';
import type { WaitEstimator } from './wait-estimate';
import type { StandingQueueRule } from './standing-queue';

export interface InferOutcome {
  outputs: Tensor[];
  /** Microseconds between acceptance and dispatch to a worker. */
  queueUs: number;
  /** Microseconds inside onnxruntime for the execution this request was part of. */
  computeUs: number;
  /** Requests in the execution this request was part of. */
  batchSize: number;
}

export interface Pending {
  request: InferRequest;
  /** process.hrtime.bigint() at acceptance. */
  acceptedAt: bigint;
  resolve(outcome: InferOutcome): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  settled: boolean;
}

/** Seconds a shed client is told to wait. Short: queues drain in milliseconds. */
export const RETRY_AFTER_SECONDS = 1;

export type ShedCause = 'queue_full' | 'timeout' | 'queue_wait' | 'standing_queue';

export class ModelQueue {
  private readonly items: Pending[] = [];
  /** Requests taken from the queue and not yet finished. */
  executing = 0;
  /** How long requests waited before dispatch (or before their timeout shed them), for the saturation signal. */
  readonly waits = new QueueWaitWindow(QUEUE_WAIT_WINDOW_MS);

  constructor(
    readonly key: string,
    readonly policy: QueuePolicy,
    private readonly onShed: (cause: ShedCause) => void,
    /** Admission by estimated wait (wait-estimate.ts); absent: by queue length only. */
    readonly estimator?: WaitEstimator,
    /** A queue that stood full is kept short while it stands (standing-queue.ts); absent: max_queue_size only. */
    readonly standing?: StandingQueueRule,
  ) {}

  get waiting(): number {
    return this.items.length;
  }

  /** True when a new request would be rejected: lets the server shed before reading the body. */
  get full(): boolean {
    const max = this.policy.maxQueueSize;
    if (max <= 0) return false;
    return this.items.length >= (this.standing ? this.standing.limit(max) : max);
  }

  /** Queued + executing: Triton's pending request count. */
  get pending(): number {
    return this.items.length + this.executing;
  }

  /**
   * Accepts a request or rejects it at once. `timeoutUs` is the request's own `timeout`
   * parameter; it may only lower the model's default.
   */
  enqueue(request: InferRequest, timeoutUs?: number): Promise<InferOutcome> {
    const refused = this.refusal(timeoutUs);
    if (refused) return Promise.reject(refused);
    const timeout = effectiveTimeoutUs(this.policy, timeoutUs);
    return new Promise<InferOutcome>((resolve, reject) => {
      const pending: Pending = { request, acceptedAt: process.hrtime.bigint(), resolve, reject, settled: false };
      if (timeout > 0) {
        pending.timer = setTimeout(() => {
          const i = this.items.indexOf(pending);
          if (i === -1) return; // already running: it completes normally
          this.items.splice(i, 1);
          pending.settled = true;
          this.waits.observe(timeout);
          this.onShed('timeout');
          reject(shedError(`model ${this.key}: request timeout expired after ${timeout} µs in the queue`, RETRY_AFTER_SECONDS));
        }, Math.max(1, Math.ceil(timeout / 1000)));
      }
      this.items.push(pending);
      this.standing?.admitted();
    });
  }

  /**
   * The 503 a new request gets now (counted as shed), or undefined when it is admitted: the queue
   * is full, or its estimated wait exceeds its timeout (see wait-estimate.ts). Called before the
   * body is read (with the model's timeout) and again at enqueue (with the request's own).
   */
  refusal(timeoutUs?: number): Error | undefined {
    const reason = this.refusalReason(timeoutUs);
    return reason === undefined ? undefined : shedError(reason, RETRY_AFTER_SECONDS);
  }

  /**
   * The same decision as `refusal` (and counted the same way), as the 503's message: no Error is
   * built, whose stack capture was 6 % of the front door's time at 3× overload (issue 15).
   */
  refusalReason(timeoutUs?: number): string | undefined {
    if (this.full) {
      const max = this.policy.maxQueueSize;
      // Full at max_queue_size: from now on only a short line waits (standing-queue.ts).
      if (this.standing && this.items.length >= max && this.standing.shortLine < max) {
        this.standing.stood();
        this.shedOldest(this.standing.shortLine);
      }
      this.standing?.refused();
      this.onShed('queue_full');
      return this.fullReason();
    }
    const timeout = effectiveTimeoutUs(this.policy, timeoutUs);
    // Nothing waiting: the request is next, whatever the estimate says. Refusing it would also stop
    // the executions whose measurements correct the estimate (measured: one slow execution on a busy
    // box latched a model at 7 executions in 5 s, every other request refused).
    if (timeout === 0 || this.items.length === 0) return undefined;
    // Ahead of it: the requests waiting and those already handed to a worker (each worker holds the
    // batch it runs and the next one), all of which run before it starts.
    const estimate = this.estimator?.estimateUs(this.items.length + this.executing);
    if (estimate === undefined || estimate <= timeout) return undefined;
    this.onShed('queue_wait');
    const running = this.executing > 0 ? `, ${this.executing} executing` : '';
    return `model ${this.key}: estimated queue wait ${Math.round(estimate / 1000)} ms (${this.items.length} waiting${running}) exceeds the request timeout of ${Math.round(timeout / 1000)} ms; retry later`;
  }

  private fullReason(): string {
    if (this.standing?.holding) return this.standingReason(this.standing.shortLine);
    return `model ${this.key}: exceeds maximum queue size (${this.policy.maxQueueSize}); retry later`;
  }

  private standingReason(line: number): string {
    return `model ${this.key}: its queue stood full (max_queue_size ${this.policy.maxQueueSize}): requests arrive faster than they execute, so only the newest ${line} wait for now; retry later`;
  }

  /** Sheds the oldest waiting requests, keeping the newest `keep` (the queue stood full: standing-queue.ts). */
  private shedOldest(keep: number): void {
    const shed = this.items.splice(0, Math.max(0, this.items.length - keep));
    if (shed.length === 0) return;
    const now = process.hrtime.bigint();
    const reason = this.standingReason(keep);
    for (const p of shed) {
      if (p.timer) clearTimeout(p.timer);
      p.settled = true;
      this.waits.observe(Number(now - p.acceptedAt) / 1000);
      this.onShed('standing_queue');
      p.reject(shedError(reason, RETRY_AFTER_SECONDS));
    }
  }

  /** The oldest waiting request, without removing it. */
  peek(): Pending | undefined {
    return this.items[0];
  }

  /** Removes and returns waiting requests chosen by `pick` (indices into the FIFO, ascending). */
  take(indices: number[]): Pending[] {
    const taken: Pending[] = [];
    for (let k = indices.length - 1; k >= 0; k--) taken.unshift(this.items.splice(indices[k], 1)[0]);
    const now = process.hrtime.bigint();
    for (const p of taken) {
      if (p.timer) clearTimeout(p.timer);
      this.waits.observe(Number(now - p.acceptedAt) / 1000);
    }
    this.executing += taken.length;
    return taken;
  }

  /** Waiting requests, oldest first (read-only view for batch formation). */
  snapshot(): readonly Pending[] {
    return this.items;
  }

  finished(count: number): void {
    this.executing -= count;
  }
}

export function effectiveTimeoutUs(policy: QueuePolicy, requested?: number): number {
  const base = policy.defaultTimeoutMicroseconds;
  if (requested === undefined || !policy.allowTimeoutOverride) return base;
  if (base === 0) return requested;
  return Math.min(base, requested);
}
