/**
 * CPU-heavy work the event loop must do itself (decoding a large JSON tensor body: ~4 ms for the
 * CNN's 27,648 numbers), taken in turns: at most `sliceMs` of it per event-loop turn, so health
 * probes, sheds and the replies of finished batches are answered in between. Decoding each body in
 * the callback that completed it let one poll phase run dozens of decodes back to back: with 128
 * JSON clients the loop stalled up to 228 ms at a time and readiness p99 was 3.2 s, past a load
 * balancer's 3 s health-check timeout for a busy, healthy instance (issue 15).
 *
 * A task queued during the poll phase runs in the check phase right after it (setImmediate); what
 * is left after a slice waits for the next turn, after the next poll phase.
 */
export class MainThreadSlices {
  private readonly tasks: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly sliceMs = 2) {}

  /** Tasks queued and not yet run. */
  get waiting(): number {
    return this.tasks.length;
  }

  /** Runs `fn` in its turn; its result or error settles the promise. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tasks.push(() => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.drain);
      }
    });
  }

  private readonly drain = (): void => {
    const until = performance.now() + this.sliceMs;
    while (this.tasks.length > 0) {
      this.tasks.shift()!();
      if (performance.now() >= until) break;
    }
    if (this.tasks.length > 0) setImmediate(this.drain);
    else this.scheduled = false;
  };
}
