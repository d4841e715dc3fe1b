/**
 * Batch sizes chosen from measurement instead of always the largest allowed. Filling the largest
 * batch a config allows is not free: on a CNN and a small CPU, batch 16 can cost half again as
 * much CPU per inference as batch 4 (the batch falls out of cache). Nor is the smallest batch
 * free: every execution also pays a fixed cost outside session.run (the input copy, the hop to
 * the worker and back, settling its requests: ~0.1 ms of main-thread CPU per execution on the
 * CNN), which small batches pay more often.
 *
 * So at load the version's executions are measured as they are served: at each candidate size,
 * executions of fresh tiled inputs go through the worker pool with as many in flight as serving
 * keeps (every worker busy, one queued behind), and the process's CPU (every thread) is counted
 * per inference. The batcher then sends batches of the smallest size within a small tolerance of
 * the least CPU per inference: a server saturated by its traffic serves as many inferences as its
 * CPUs allow, so CPU per inference decides its throughput (issue 15 states its targets that way).
 * Measured on the PP-OCR CNN (2 cores, c=32 binary): session.run's time alone put batch 2 within
 * 4 % of batch 4, so timing only session.run chose 2, and serving at batch 2 ran 1,337–1,434 req/s
 * at 1.26–1.36 ms of CPU per request against 1,523–1,585 req/s at 1.18–1.22 ms at batch 4.
 * An explicit `preferred_batch_size` in config.json wins (Triton's semantics), and is not measured.
 */
import type { WireTensor } from '../workers/messages';

export interface BatchMeasurement {
  batch: number;
  /** Inferences per second at this batch size (every worker of the version busy). */
  inferencesPerSecond: number;
  /** CPU of the whole process (every thread) per inference at this size, in µs. */
  cpuUsPerInference: number;
}

/** Sizes worth measuring: powers of two below the maximum, and the maximum. */
export function calibrationSizes(maxBatchSize: number): number[] {
  const sizes: number[] = [];
  for (let n = 1; n < maxBatchSize; n *= 2) sizes.push(n);
  sizes.push(maxBatchSize);
  return sizes;
}

/** Costs within this fraction of the least count as equal (measurement noise): the smaller batch (lower latency) wins. */
export const CALIBRATION_TOLERANCE = 0.02;

/** The smallest measured size whose CPU per inference is within the tolerance of the least. */
export function chooseBatchSize(measured: readonly BatchMeasurement[], tolerance = CALIBRATION_TOLERANCE): number {
  if (measured.length === 0) throw new Error('no batch size was measured');
  const least = Math.min(...measured.map((m) => m.cpuUsPerInference));
  const good = measured.filter((m) => m.cpuUsPerInference <= least * (1 + tolerance));
  return Math.min(...good.map((m) => m.batch));
}

/** Feeds of one request (their first row) repeated `n` times along the batch dimension. */
export function tileFeeds(feeds: readonly WireTensor[], n: number): WireTensor[] {
  return feeds.map((t) => {
    const rows = t.dims[0] ?? 1;
    const per = rows > 0 ? t.data.length / rows : 0;
    const dims = [n, ...t.dims.slice(1)];
    if (Array.isArray(t.data)) {
      const row = t.data.slice(0, per);
      return { ...t, dims, data: Array.from({ length: n }, () => row).flat() };
    }
    const src = t.data as Exclude<WireTensor['data'], string[]>;
    const Ctor = src.constructor as new (len: number) => typeof src;
    const out = new Ctor(per * n);
    const row = src.subarray(0, per);
    for (let i = 0; i < n; i++) (out as unknown as { set(a: ArrayLike<number | bigint>, o: number): void }).set(row as ArrayLike<number | bigint>, i * per);
    return { ...t, dims, data: out };
  });
}

export interface ThroughputTrial {
  /** The request's feeds (its first row is tiled to each size). */
  feeds: readonly WireTensor[];
  sizes: readonly number[];
  /** Executions kept in flight at once (as many as serving keeps: workers × tasks per worker). */
  lanes: number;
  /** Wall time per size and round (every lane runs at least once). */
  msPerSize: number;
  /** Rounds over all sizes; each size keeps its cheapest round, so a burst of other work (another version loading) costs one round, not the choice. */
  rounds: number;
  /** Runs one execution of `inputs` the way serving does (fresh buffers the callee may take). */
  run(inputs: WireTensor[]): Promise<unknown>;
  /** Clock in ms (performance.now by default; tests pass their own). */
  now?: () => number;
  /** CPU the process has used, in µs (process.cpuUsage by default; tests pass their own). */
  cpuUs?: () => number;
}

function processCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Throughput and CPU per inference at each size, executions measured as they are served (see the top of this file). */
export async function measureThroughput(trial: ThroughputTrial): Promise<BatchMeasurement[]> {
  const now = trial.now ?? (() => performance.now());
  const cpuUs = trial.cpuUs ?? processCpuUs;
  const best = new Map<number, BatchMeasurement>();
  const lanes = Array.from({ length: Math.max(1, trial.lanes) });
  for (let round = 0; round < trial.rounds; round++) {
    for (const batch of trial.sizes) {
      // One untimed execution per lane at this size: onnxruntime sizes its buffers for a new shape on first use.
      if (round === 0) await Promise.all(lanes.map(() => trial.run(tileFeeds(trial.feeds, batch))));
      let inferences = 0;
      const cpuBefore = cpuUs();
      const started = now();
      const until = started + trial.msPerSize;
      await Promise.all(
        lanes.map(async () => {
          do {
            await trial.run(tileFeeds(trial.feeds, batch));
            inferences += batch;
          } while (now() < until);
        }),
      );
      const elapsed = now() - started;
      const m = { batch, inferencesPerSecond: elapsed > 0 ? Math.round((inferences * 1000) / elapsed) : 0, cpuUsPerInference: Math.round((cpuUs() - cpuBefore) / inferences) };
      const previous = best.get(batch);
      if (!previous || m.cpuUsPerInference < previous.cpuUsPerInference) best.set(batch, m);
    }
  }
  return trial.sizes.map((batch) => best.get(batch)!);
}
