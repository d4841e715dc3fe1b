/**
 * The inference worker pool: one piscina pool of exactly one thread per worker, so the runtime
 * can address each worker (load and warm every model version in every worker before readiness)
 * while piscina keeps each thread alive, restarts it if it dies and queues its tasks.
 */
import fs from 'node:fs';
import path from 'node:path';
import Piscina from 'piscina';
import type { LoadResult, LoadTask, RunResult, RunTask, TimeResult, TimeTask, WorkerTask } from './messages';
import { WORKER_NICE_ENV } from './priority';

export interface WorkerPoolOptions {
  workers: number;
  /** Compiled worker module; defaults to inference-worker.js next to this file (or in dist/ when run from sources). */
  filename?: string;
  /** Nice increment of the worker threads over the main thread (0: same priority); see priority.ts. */
  nice?: number;
}

/** Resolves the compiled worker, also when this module runs from TypeScript sources (jest). */
export function defaultWorkerFile(): string {
  const sibling = path.join(__dirname, 'inference-worker.js');
  if (fs.existsSync(sibling)) return sibling;
  const built = path.resolve(__dirname, '..', '..', 'dist', 'runtime', 'workers', 'inference-worker.js');
  if (fs.existsSync(built)) return built;
  throw new Error(`inference worker not found at ${sibling} or ${built}; run \`npm run build\``);
}

/** Running + queued tasks a worker may hold. */
export const MAX_TASKS_PER_WORKER = 2;

interface Slot {
  pool: Piscina<WorkerTask, LoadResult | RunResult | TimeResult | null>;
  inFlight: number;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private closed = false;
  /** Called whenever a task finishes, whoever submitted it (see onTaskFinished). */
  private readonly finishedListeners: Array<() => void> = [];

  constructor(options: WorkerPoolOptions) {
    const filename = options.filename ?? defaultWorkerFile();
    this.slots = Array.from({ length: options.workers }, (_, i) => ({
      pool: new Piscina<WorkerTask, LoadResult | RunResult | TimeResult | null>({
        filename,
        name: 'default',
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Number.POSITIVE_INFINITY,
        // Piscina posts a task to its thread only while the thread runs fewer than this many, so
        // with 1 the batch queued behind the running one waited on the main thread until the
        // result had travelled back (the workers sat idle ~40 % of the time at c=32 on the CNN).
        // The worker runs its tasks one after another (inference-worker.ts).
        concurrentTasksPerWorker: MAX_TASKS_PER_WORKER,
        env: { ...process.env, ONNX_FLEET_WORKER_INDEX: String(i), [WORKER_NICE_ENV]: String(options.nice ?? 0) },
      }),
      inFlight: 0,
    }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Tasks submitted and not yet finished, over all workers. */
  get inFlight(): number {
    return this.slots.reduce((n, s) => n + s.inFlight, 0);
  }

  /**
   * Workers that can take another task now. A worker holds at most one task queued behind the
   * one it runs, so it starts the next batch as soon as it finishes the current one instead of
   * idling while the result travels back and a new batch is formed; everything else waits in
   * the model queues, where it is counted, bounded and subject to timeouts.
   */
  get idleWorkers(): number {
    return this.slots.filter((s) => s.inFlight < MAX_TASKS_PER_WORKER).length;
  }

  /** Idle workers among `on` (a model's instances; all workers when absent). */
  idleAmong(on?: readonly number[]): number {
    if (!on) return this.idleWorkers;
    let n = 0;
    for (const i of on) if (this.slots[i].inFlight < MAX_TASKS_PER_WORKER) n++;
    return n;
  }

  /**
   * The worker among `on` (all when absent) with the fewest tasks in flight: where a version's
   * automatic warmup trials wait least, so the versions loading at start share the workers.
   */
  leastBusy(on?: readonly number[]): number {
    const candidates = on ?? this.slots.map((_, i) => i);
    return candidates.reduce((best, i) => (this.slots[i].inFlight < this.slots[best].inFlight ? i : best), candidates[0]);
  }

  private chosen(on?: readonly number[]): Slot[] {
    return on ? on.map((i) => this.slots[i]) : this.slots;
  }

  private async submit<R>(slot: Slot, task: WorkerTask, transferList?: ArrayBuffer[]): Promise<R> {
    if (this.closed) throw new Error('worker pool is closed');
    slot.inFlight++;
    try {
      return (await slot.pool.run(task, transferList && transferList.length > 0 ? { transferList } : undefined)) as R;
    } finally {
      slot.inFlight--;
      for (const listener of this.finishedListeners) listener();
    }
  }

  /**
   * Calls `listener` whenever a task finishes: a worker may have room again. The dispatcher listens,
   * so requests that waited while other tasks (a version's load, warm-up or calibration) held every
   * worker run as soon as those finish, not only when the next request or execution wakes it
   * (closed-loop clients all waiting send no next request: they waited forever).
   */
  onTaskFinished(listener: () => void): void {
    this.finishedListeners.push(listener);
  }

  /**
   * Set once the server serves: a load then runs in one worker at a time (a session's creation
   * blocks its worker), so the other workers keep serving while a new version loads beside the old.
   */
  loadOneAtATime = false;

  /** Loads (and warms) a session in every worker (or those in `on`); resolves with the first worker's result. */
  async loadEverywhere(task: LoadTask, on?: readonly number[]): Promise<LoadResult> {
    const slots = this.chosen(on);
    if (this.loadOneAtATime) {
      const results: LoadResult[] = [];
      for (const slot of slots) results.push(await this.submit<LoadResult>(slot, task));
      return results[0];
    }
    const results = await Promise.all(slots.map((slot) => this.submit<LoadResult>(slot, task)));
    return results[0];
  }

  /** Loads (and warms) a session in one worker only: automatic warmup tries its candidates there. */
  loadOn(worker: number, task: LoadTask): Promise<LoadResult> {
    return this.submit<LoadResult>(this.slots[worker], task);
  }

  /** Times `feeds` on one worker (median session.run). */
  timeOn(worker: number, task: TimeTask): Promise<TimeResult> {
    return this.submit<TimeResult>(this.slots[worker], task);
  }

  async unloadEverywhere(key: string): Promise<void> {
    await Promise.allSettled(this.slots.map((slot) => this.submit(slot, { op: 'unload', key })));
  }

  /**
   * Runs on the least busy worker. Buffers in `transferList` move to the worker instead of being
   * copied (they are unusable here afterwards): see transferableInputs().
   */
  run(task: RunTask, transferList?: ArrayBuffer[], on?: readonly number[]): Promise<RunResult> {
    const slots = this.chosen(on);
    let best = slots[0];
    for (const slot of slots) if (slot.inFlight < best.inFlight) best = slot;
    return this.submit<RunResult>(best, task, transferList);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.pool.destroy()));
  }
}
