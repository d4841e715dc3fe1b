/**
 * Runs one model version's queued requests on the worker pool and settles them. Without dynamic
 * batching each execution is one request; batch formation is the batcher's job.
 */
import { InferenceError, invalidArgument, unavailable } from '../errors';
import { datatypeOfOrt, ortTypeOf } from '../models/ort-types';
import type { Tensor } from '../protocol/types';
import type { SessionSpec, WireTensor } from '../workers/messages';
import type { WorkerPool } from '../workers/worker-pool';
import type { RuntimeMetrics } from '../metrics';
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
    private readonly pool: WorkerPool,
    private readonly session: SessionSpec,
    private readonly metrics: RuntimeMetrics,
    model: string,
    version: string,
  ) {
    this.labels = { model, version };
  }

  formBatch(): BatchDecision {
    return { run: [0] };
  }

  async execute(batch: Pending[]): Promise<void> {
    const dispatchedAt = process.hrtime.bigint();
    const [pending] = batch;
    try {
      const result = await this.pool.run({ op: 'run', ...this.session, inputs: pending.request.inputs.map(toWire) });
      this.metrics.execCount.inc(this.labels);
      this.metrics.inferenceCount.inc(this.labels, batch.length);
      this.metrics.computeInferDuration.inc(this.labels, result.computeUs);
      pending.resolve({
        outputs: result.outputs.map(fromWire),
        queueUs: Number(dispatchedAt - pending.acceptedAt) / 1000,
        computeUs: result.computeUs,
        batchSize: 1,
      });
    } catch (err) {
      pending.reject(executionError(`${this.labels.model}/${this.labels.version}`, err));
    }
  }
}
