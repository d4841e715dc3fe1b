/**
 * Batch sizes chosen from measured throughput instead of always the largest allowed. Filling the
 * largest batch a config allows is not free: on a CNN and a small CPU, batch 16 can cost half
 * again as much CPU per inference as batch 4 (the batch falls out of cache). At load, every
 * worker runs the model at each candidate size at once (as under load), and the batcher then
 * sends batches of the smallest size within a few percent of the best measured throughput.
 * An explicit `preferred_batch_size` in config.json wins (Triton's semantics), and is not measured.
 */
import type { WireTensor } from '../workers/messages';

export interface BatchMeasurement {
  batch: number;
  /** Inferences per second at this batch size (summed over the workers that ran at once). */
  inferencesPerSecond: number;
}

/** Sizes worth measuring: powers of two below the maximum, and the maximum. */
export function calibrationSizes(maxBatchSize: number): number[] {
  const sizes: number[] = [];
  for (let n = 1; n < maxBatchSize; n *= 2) sizes.push(n);
  sizes.push(maxBatchSize);
  return sizes;
}

/** Throughputs within this fraction of the best count as equal: the smaller batch (lower latency) wins. */
export const CALIBRATION_TOLERANCE = 0.05;

/** The smallest measured size whose throughput is within the tolerance of the best. */
export function chooseBatchSize(measured: readonly BatchMeasurement[], tolerance = CALIBRATION_TOLERANCE): number {
  if (measured.length === 0) throw new Error('no batch size was measured');
  const best = Math.max(...measured.map((m) => m.inferencesPerSecond));
  const good = measured.filter((m) => m.inferencesPerSecond >= best * (1 - tolerance));
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

/** Sums per-worker measurements (workers ran at once) into one list by batch size. */
export function combineWorkers(perWorker: ReadonlyArray<ReadonlyArray<{ batch: number; runUs: number }>>): BatchMeasurement[] {
  const byBatch = new Map<number, number>();
  for (const runs of perWorker) for (const r of runs) byBatch.set(r.batch, (byBatch.get(r.batch) ?? 0) + (r.runUs > 0 ? (r.batch * 1e6) / r.runUs : 0));
  return [...byBatch].map(([batch, ips]) => ({ batch, inferencesPerSecond: Math.round(ips) })).sort((a, b) => a.batch - b.batch);
}
