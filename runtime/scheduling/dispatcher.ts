/**
 * Hands queued work to free workers. Each model version has its own queue; when a worker is free
 * the dispatcher visits the queues round-robin, so a model flooded with requests cannot starve
 * another. Work is only handed to a runner that is free (its worker, or the main thread for an inline
 * model), so nothing piles up invisibly inside the worker pool: every waiting request is in a ModelQueue, counted and subject to its deadline.
 */
import type { ModelQueue, Pending } from './model-queue';

export type BatchDecision =
  /** Run these waiting requests (indices into the queue, ascending) now. */
  | { run: number[] }
  /** Nothing to run yet: look again after this many microseconds (dynamic batching delay). */
  | { waitUs: number }
  | null;

export interface QueueExecutor {
  readonly queue: ModelQueue;
  /** Picks the next execution from the queue (never empty when called). */
  formBatch(now: bigint): BatchDecision;
  /** Runs the execution; settles every pending request itself and never rejects. */
  execute(batch: Pending[]): Promise<void>;
  /** False while every session of this model is busy (its workers, or the main thread for an inline model). */
  hasCapacity(): boolean;
}

export class Dispatcher {
  private readonly executors: QueueExecutor[] = [];
  private next = 0;
  private scheduled = false;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = 0n;

  add(executor: QueueExecutor): void {
    this.executors.push(executor);
  }

  remove(executor: QueueExecutor): void {
    const i = this.executors.indexOf(executor);
    if (i !== -1) this.executors.splice(i, 1);
  }

  /** Something changed (a request arrived, a worker finished): pump soon, once. */
  notify(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const now = process.hrtime.bigint();
    let earliestWait: number | undefined;
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (let visited = 0; visited < this.executors.length; visited++) {
        const executor = this.executors[this.next % this.executors.length];
        this.next = (this.next + 1) % Math.max(1, this.executors.length);
        if (executor.queue.waiting === 0) continue;
        if (!executor.hasCapacity()) continue;
        const decision = executor.formBatch(now);
        if (decision === null) continue;
        if ('waitUs' in decision) {
          earliestWait = earliestWait === undefined ? decision.waitUs : Math.min(earliestWait, decision.waitUs);
          continue;
        }
        const batch = executor.queue.take(decision.run);
        progressed = true;
        void executor.execute(batch).finally(() => {
          executor.queue.finished(batch.length);
          this.notify();
        });
      }
    }
    if (earliestWait !== undefined) this.wakeAfter(earliestWait);
  }

  private wakeAfter(us: number): void {
    const at = process.hrtime.bigint() + BigInt(Math.ceil(us * 1000));
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, Math.max(0, Math.floor(us / 1000)));
  }

  close(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
  }
}
