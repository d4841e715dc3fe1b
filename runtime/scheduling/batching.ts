/**
 * Dynamic batching with Triton's semantics: requests whose inputs have the same non-batch shape
 * are concatenated along the batch dimension up to max_batch_size; a batch is sent when it is
 * full, when it reaches a preferred size, or when the oldest request has waited
 * max_queue_delay_microseconds. Outputs are split back per request.
 */
import type { Tensor, TensorData } from '../protocol/types';
import type { DynamicBatchingConfig } from '../models/model-config';
import type { BatchDecision } from './dispatcher';
import type { Pending } from './model-queue';

export interface BatchPolicy extends DynamicBatchingConfig {
  maxBatchSize: number;
}

/** The request's batch size (its inputs' first dimension; validation guarantees they agree). */
export function batchSizeOf(p: Pending): number {
  const first = p.request.inputs[0];
  return first && first.shape.length > 0 ? first.shape[0] : 1;
}

/** Requests can share a batch only when every input has the same dimensions after the first. */
export function shapeKey(p: Pending): string {
  let key = '';
  for (const t of p.request.inputs) key += `${t.name}:${t.shape.slice(1).join('x')};`;
  return key;
}

/**
 * Chooses the next batch from the waiting requests (oldest first). Only requests with the oldest
 * request's shape are considered, in arrival order, so no request is overtaken by its own kind.
 */
export function decideBatch(waiting: readonly Pending[], policy: BatchPolicy, now: bigint): BatchDecision {
  if (waiting.length === 0) return null;
  const key = shapeKey(waiting[0]);
  const indices: number[] = [];
  const sizes: number[] = [];
  let total = 0;
  let full = false;
  for (let i = 0; i < waiting.length; i++) {
    if (shapeKey(waiting[i]) !== key) continue;
    const n = batchSizeOf(waiting[i]);
    // A request larger than a calibrated batch size (still within max_batch_size) runs alone.
    if (total + n > policy.maxBatchSize && indices.length > 0) {
      full = true;
      break;
    }
    indices.push(i);
    sizes.push(n);
    total += n;
    if (total >= policy.maxBatchSize) {
      full = true;
      break;
    }
  }
  if (full) return { run: indices };
  // A preferred size reachable by a prefix of the candidates is sent at once (the largest one).
  for (let k = policy.preferredBatchSizes.length - 1; k >= 0; k--) {
    const preferred = policy.preferredBatchSizes[k];
    let sum = 0;
    for (let j = 0; j < sizes.length && sum < preferred; j++) {
      sum += sizes[j];
      if (sum === preferred) return { run: indices.slice(0, j + 1) };
    }
  }
  const waitedUs = Number(now - waiting[0].acceptedAt) / 1000;
  if (waitedUs >= policy.maxQueueDelayMicroseconds) return { run: indices };
  return { waitUs: policy.maxQueueDelayMicroseconds - waitedUs };
}

function concatData(parts: TensorData[]): TensorData {
  const first = parts[0];
  if (Array.isArray(first)) return ([] as string[]).concat(...(parts as string[][]));
  const length = parts.reduce((n, p) => n + p.length, 0);
  const Ctor = first.constructor as new (n: number) => Exclude<TensorData, string[]>;
  const out = new Ctor(length);
  let offset = 0;
  for (const p of parts as Array<Exclude<TensorData, string[]>>) {
    (out as unknown as { set(a: ArrayLike<number | bigint>, o: number): void }).set(p as ArrayLike<number | bigint>, offset);
    offset += p.length;
  }
  return out;
}

/** Concatenates each input of the requests along dimension 0. */
export function concatInputs(batch: Pending[]): Tensor[] {
  if (batch.length === 1) return batch[0].request.inputs;
  const total = batch.reduce((n, p) => n + batchSizeOf(p), 0);
  return batch[0].request.inputs.map((input) => {
    const parts = batch.map((p) => p.request.inputs.find((t) => t.name === input.name)!.data);
    return { name: input.name, datatype: input.datatype, shape: [total, ...input.shape.slice(1)], data: concatData(parts) };
  });
}

/**
 * Splits outputs along dimension 0 back into one list per request. An output whose first
 * dimension is not the batch (the model reduces over the batch) cannot be split: that is an error.
 */
export function splitOutputs(outputs: Tensor[], sizes: number[]): Tensor[][] {
  if (sizes.length === 1) return [outputs];
  const total = sizes.reduce((a, b) => a + b, 0);
  const result: Tensor[][] = sizes.map(() => []);
  for (const out of outputs) {
    if (out.shape.length === 0 || out.shape[0] !== total) {
      throw new Error(`output '${out.name}' has shape [${out.shape.join(',')}], not batched along its first dimension (batch of ${total}); serve this model with max_batch_size 0 or without dynamic_batching`);
    }
    const per = out.shape.slice(1).reduce((a, b) => a * b, 1);
    let row = 0;
    sizes.forEach((n, i) => {
      const data = out.data.slice(row * per, (row + n) * per) as TensorData;
      result[i].push({ name: out.name, datatype: out.datatype, shape: [n, ...out.shape.slice(1)], data });
      row += n;
    });
  }
  return result;
}
