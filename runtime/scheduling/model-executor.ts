/**
 * Runs one model version's queued requests on its runner (its workers, or the main thread for a
 * µs-scale model: runners.ts) and settles them. With dynamic batching an execution concatenates
 * several requests (see batching.ts); without it, one.
 */
import { InferenceError, invalidArgument, unavailable } from '../errors';
import { datatypeOfOrt, ortTypeOf } from '../models/ort-types';
import type { Tensor } from '../protocol/types';
import type { WireTensor } from '../workers/messages';
import type { Runner } from './runners';
import type { RuntimeMetrics } from '../metrics';
import { BatchPolicy, batchSizeOf, concatInputs, decideBatch, splitOutputs } from './batching';
import type { BatchDecision, QueueExecutor } from './dispatcher';
import type { ModelQueue, Pending } from './model-queue';

export function toWire(t: Tensor): WireTensor {
  return { name: t.name, type: ortTypeOf(t.datatype), dims: t.shape, data: t.data };
}

export function fromWire(t: WireTensor): Tensor {
  const datatype = datatypeOfOrt(t.type);
  if (!datatype) throw new Error(`output '${t.name}' has element type ${t.type}, which the protocol cannot carry`);
  return { name: t.name, datatype, shape: t.dims, data: t.data };
}

/** Below this size a copy costs less than detaching and re-creating the buffer. */
const MIN_TRANSFER_BYTES = 16 * 1024;

/**
 * Input buffers that may move to the worker instead of being copied by structured clone. Only
 * buffers the caller allocated for the execution qualify, i.e. a batch's concatenated inputs or
 * batch calibration's tiled ones (a single request's tensors belong to its caller, who may still
 * read them), and only typed arrays that span their
 * whole ArrayBuffer, so nothing shared is ever detached.
 */
export function transferableInputs<T extends { data: Tensor['data'] }>(inputs: readonly T[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const t of inputs) {
    if (Array.isArray(t.data)) continue;
    const buffer = t.data.buffer as ArrayBuffer;
    // Not `instanceof`: typed arrays may come from another realm (vm contexts); SharedArrayBuffers never move.
    if (Object.prototype.toString.call(buffer) === '[object ArrayBuffer]' && t.data.byteOffset === 0 && t.data.byteLength === buffer.byteLength && buffer.byteLength >= MIN_TRANSFER_BYTES && !out.includes(buffer)) {
      out.push(buffer);
    }
  }
  return out;
}

/** Errors from onnxruntime on an input that passed validation are the input's fault (Triton: INVALID_ARG). */
export function executionError(model: string, err: unknown): InferenceError {
  if (err instanceof InferenceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/worker|terminat|pool is closed/i.test(message)) {
    return unavailable(`model ${model}: the inference worker stopped while running this request (${message}); retry`, 1);
  }
  return invalidArgument(`model ${model} could not run on this input: ${message}`);
}

export class ModelExecutor implements QueueExecutor {
  private readonly labels: { model: string; version: string };

  constructor(
    readonly queue: ModelQueue,
    readonly runner: Runner,
    private readonly metrics: RuntimeMetrics,
    model: string,
    version: string,
    /** Present when the model is dynamically batched. */
    private readonly batching?: BatchPolicy,
  ) {
    this.labels = { model, version };
  }

  hasCapacity(): boolean {
    return this.runner.hasCapacity();
  }

  formBatch(now: bigint): BatchDecision {
    if (!this.batching) return { run: [0] };
    return decideBatch(this.queue.snapshot(), this.batching, now);
  }

  async execute(batch: Pending[]): Promise<void> {
    const dispatchedAt = process.hrtime.bigint();
    try {
      const inputs = concatInputs(batch);
      const result = await this.runner.run(inputs.map(toWire), batch.length > 1 && this.runner.thread === 'worker' ? transferableInputs(inputs) : undefined);
      // Service time, not wall time: under overload the wall time also holds event-loop lag, which
      // would inflate the estimate and shed what the workers could serve (measured: goodput collapsed).
      this.queue.estimator?.record(result.computeUs, batch.length);
      const sizes = batch.map(batchSizeOf);
      const perRequest = splitOutputs(result.outputs.map(fromWire), sizes);
      this.metrics.execCount.inc(this.labels);
      this.metrics.inferenceCount.inc(this.labels, sizes.reduce((a, b) => a + b, 0));
      this.metrics.computeInferDuration.inc(this.labels, result.computeUs);
      batch.forEach((pending, i) =>
        pending.resolve({ outputs: perRequest[i], queueUs: Number(dispatchedAt - pending.acceptedAt) / 1000, computeUs: result.computeUs, batchSize: batch.length }),
      );
    } catch (err) {
      const error = executionError(`${this.labels.model}/${this.labels.version}`, err);
      for (const pending of batch) pending.reject(error);
    }
  }
}
