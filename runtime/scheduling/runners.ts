/**
 * Where a model version's executions run: on its inference workers (the default), or on the main
 * thread for models whose measured compute is below the cost of the thread hop (inline-runner.ts).
 * A runner runs one execution's wire tensors and says whether it can take another now.
 */
import type { RunResult, SessionSpec, WireTensor } from '../workers/messages';
import type { WorkerPool } from '../workers/worker-pool';

export type ExecutionThread = 'main' | 'worker';

export interface Runner {
  readonly thread: ExecutionThread;
  /** False while every session of the version is busy. */
  hasCapacity(): boolean;
  /** Buffers in `transferList` may move to the thread that runs (they are unusable here afterwards). */
  run(inputs: WireTensor[], transferList?: ArrayBuffer[]): Promise<RunResult>;
  /** Frees what the runner itself holds (worker sessions are unloaded by the model manager). */
  release(): Promise<void>;
}

/** Executions on the version's workers (instance_group's placement; all workers when absent). */
export class WorkerRunner implements Runner {
  readonly thread = 'worker';

  constructor(
    private readonly pool: WorkerPool,
    private readonly session: SessionSpec,
    private readonly workers?: readonly number[],
  ) {}

  hasCapacity(): boolean {
    return this.pool.idleAmong(this.workers) > 0;
  }

  run(inputs: WireTensor[], transferList?: ArrayBuffer[]): Promise<RunResult> {
    return this.pool.run({ op: 'run', ...this.session, inputs }, transferList, this.workers);
  }

  async release(): Promise<void> {
    // Nothing held here: the worker sessions go with WorkerPool.unloadEverywhere.
  }
}
