/**
 * Messages between the main thread and inference workers. Plain data only: they cross a
 * worker_threads boundary by structured clone.
 */
import type { TensorData } from '../protocol/types';

/** A tensor as onnxruntime-node names its element types (float32, int64, bool, string, ...). */
export interface WireTensor {
  name: string;
  type: string;
  dims: number[];
  data: TensorData;
}

export interface SessionSpec {
  /** Identifies the session inside a worker: "<model>@<version>". */
  key: string;
  file: string;
  intraOpThreads: number;
}

export interface WireValueMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: Array<number | string>;
}

export interface LoadTask extends SessionSpec {
  op: 'load';
  /** Feeds for one warmup inference after the session is created, or none. */
  warmup?: WireTensor[];
  /**
   * A trial (automatic warmup candidates): a warmup inference that fails is told in the result
   * (`warmupError`, with the time it took) instead of failing the task.
   */
  trial?: boolean;
}

export interface RunTask extends SessionSpec {
  op: 'run';
  inputs: WireTensor[];
  /** Output names to fetch; all when absent. */
  outputs?: string[];
}

export interface UnloadTask {
  op: 'unload';
  key: string;
}

/** Median session.run time of `feeds` as given (deciding whether a model runs on the main thread). */
export interface TimeTask extends SessionSpec {
  op: 'time';
  feeds: WireTensor[];
  ms: number;
  /** One run slower than this ends the timing with its time: the caller only needs to know it is slow. */
  enoughAboveUs?: number;
}

export interface TimeResult {
  runUs: number;
}

export type WorkerTask = LoadTask | RunTask | UnloadTask | TimeTask;

export interface LoadResult {
  inputs: WireValueMetadata[];
  outputs: WireValueMetadata[];
  loadMs: number;
  warmupMs: number;
  /** With `trial`: onnxruntime's message when the warmup inference failed. */
  warmupError?: string;
}

export interface RunResult {
  outputs: WireTensor[];
  /** Time spent inside session.run, in microseconds. */
  computeUs: number;
}
