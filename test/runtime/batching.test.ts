/**
 * Dynamic batching: batched results are identical to unbatched ones over random request mixes
 * (fast-check), requests of different non-batch shapes are never mixed, the batcher really forms
 * batches, and the bounded queue sheds with 503 + Retry-After without running anything.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { InferenceError } from '../../runtime/errors';
import type { InferRequest, Tensor } from '../../runtime/protocol/types';
import type { Runtime } from '../../runtime/server';
import { decideBatch } from '../../runtime/scheduling/batching';
import type { Pending } from '../../runtime/scheduling/model-queue';
import { transferableInputs } from '../../runtime/scheduling/model-executor';
import { EXAMPLES, FIXTURES, startTestRuntime } from '../helpers/runtime';

const BATCHING = { max_batch_size: 16, dynamic_batching: { max_queue_delay_microseconds: 20000, preferred_batch_size: [8] } };

let repo: string;
let rt: Runtime;

function addModel(name: string, from: string, config: object): void {
  fs.cpSync(from, path.join(repo, name), { recursive: true });
  fs.writeFileSync(path.join(repo, name, 'config.json'), JSON.stringify(config));
}

beforeAll(async () => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-batching-'));
  addModel('iris_batched', path.join(EXAMPLES, 'iris'), BATCHING);
  addModel('iris_single', path.join(EXAMPLES, 'iris'), { max_batch_size: 16 });
  addModel('multi_batched', path.join(FIXTURES, 'multi_input'), BATCHING);
  addModel('identity_batched', path.join(FIXTURES, 'identity_float32'), BATCHING);
  addModel('tiny_queue', path.join(EXAMPLES, 'iris'), { max_batch_size: 16, dynamic_batching: { max_queue_delay_microseconds: 200000, default_queue_policy: { max_queue_size: 2 } } });
  addModel('short_timeout', path.join(EXAMPLES, 'iris'), { max_batch_size: 16, dynamic_batching: { max_queue_delay_microseconds: 500000, default_queue_policy: { default_timeout_microseconds: 1000 } } });
  rt = await startTestRuntime(repo);
  expect(rt.models.allReady).toBe(true);
});

afterAll(async () => {
  await rt?.stop();
  fs.rmSync(repo, { recursive: true, force: true });
});

const fp32 = (name: string, shape: number[], values: number[]): Tensor => ({ name, datatype: 'FP32', shape, data: Float32Array.from(values) });
const req = (inputs: Tensor[]): InferRequest => ({ parameters: {}, inputs });

function infer(model: string, request: InferRequest) {
  return rt.models.infer(rt.models.version(model), request);
}

const outputsOf = (tensors: Tensor[]) => Object.fromEntries(tensors.map((t) => [t.name, { shape: t.shape, data: Array.from(t.data as ArrayLike<number | bigint>, (x) => String(x)) }]));

const feature = fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true });

test('batched iris results are identical to unbatched ones for any request mix', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(fc.array(feature, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 24 }), async (mix) => {
      const requests = mix.map((rows) => req([fp32('features', [rows.length, 4], rows.flat())]));
      const batched = await Promise.all(requests.map((r) => infer('iris_batched', r)));
      const single: Awaited<ReturnType<typeof infer>>[] = [];
      for (const r of requests) single.push(await infer('iris_single', r));
      batched.forEach((b, i) => expect(outputsOf(b.outputs)).toEqual(outputsOf(single[i].outputs)));
    }),
    { numRuns: 25 },
  );
}, 120_000);

test('several inputs are concatenated and split consistently', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 20 }), fc.integer(), async (sizes, seed) => {
      const requests = sizes.map((n, k) => {
        const a = Array.from({ length: n * 3 }, (_, i) => ((seed + i * 7 + k) % 13) - 6);
        const b = Array.from({ length: n * 3 }, (_, i) => ((seed + i * 5 + k) % 11) - 5);
        return { a, b, r: req([fp32('a', [n, 3], a), fp32('b', [n, 3], b)]) };
      });
      const results = await Promise.all(requests.map(({ r }) => infer('multi_batched', r)));
      results.forEach((res, k) => {
        const out = Object.fromEntries(res.outputs.map((t) => [t.name, Array.from(t.data as Float32Array)]));
        expect(out.sum).toEqual(requests[k].a.map((x, i) => Math.fround(x + requests[k].b[i])));
        expect(out.product).toEqual(requests[k].a.map((x, i) => Math.fround(x * requests[k].b[i])));
      });
    }),
    { numRuns: 20 },
  );
}, 120_000);

test('requests with different non-batch shapes are never mixed, and still batch with their own kind', async () => {
  const widths = [2, 3, 2, 5, 3, 2, 5, 5, 2, 3, 3, 2];
  const requests = widths.map((w, k) => req([fp32('input', [1, w], Array.from({ length: w }, (_, i) => k * 10 + i))]));
  const results = await Promise.all(requests.map((r) => infer('identity_batched', r)));
  results.forEach((res, k) => {
    expect(res.outputs[0].shape).toEqual([1, widths[k]]);
    expect(Array.from(res.outputs[0].data as Float32Array)).toEqual(Array.from(requests[k].inputs[0].data as Float32Array));
  });
  // Concurrent same-shape requests were executed together.
  expect(Math.max(...results.map((r) => r.batchSize))).toBeGreaterThan(1);
});

test('large batched inputs move to the worker without a copy; results stay exact and callers keep their tensors', async () => {
  const width = 8192; // 32 KiB per request: above the transfer threshold
  const requests = Array.from({ length: 12 }, (_, k) => req([fp32('input', [1, width], Array.from({ length: width }, (_, i) => k * width + i))]));
  const results = await Promise.all(requests.map((r) => infer('identity_batched', r)));
  expect(Math.max(...results.map((r) => r.batchSize))).toBeGreaterThan(1);
  results.forEach((res, k) => {
    // The caller's own tensor was never detached (only the executor's concatenation moved).
    expect((requests[k].inputs[0].data as Float32Array).length).toBe(width);
    expect(Array.from(res.outputs[0].data as Float32Array)).toEqual(Array.from(requests[k].inputs[0].data as Float32Array));
  });
});

describe('transferableInputs', () => {
  const big = 32 * 1024;
  test('moves typed arrays that own their whole buffer, once each', () => {
    const a = new Float32Array(big / 4);
    const list = transferableInputs([fp32('x', [1], []), { name: 'a', datatype: 'FP32', shape: [1, big / 4], data: a }, { name: 'b', datatype: 'FP32', shape: [1, big / 4], data: a }]);
    expect(list).toEqual([a.buffer]);
  });
  test('never moves a view into a larger buffer, a small buffer or BYTES', () => {
    const shared = new ArrayBuffer(big * 2);
    expect(transferableInputs([
      { name: 'view', datatype: 'FP32', shape: [1, big / 4], data: new Float32Array(shared, 0, big / 4) },
      { name: 'small', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) },
      { name: 's', datatype: 'BYTES', shape: [1], data: ['x'] },
    ])).toEqual([]);
  });
});

test('a full queue is rejected at once with 503 and Retry-After; nothing rejected runs', async () => {
  const v = rt.models.version('tiny_queue');
  const before = (await rt.metrics.inferenceCount.get()).values.find((x) => x.labels.model === 'tiny_queue')?.value ?? 0;
  // Occupy both workers with long iris batches on another model is not needed: the 200 ms delay keeps requests queued.
  const sample = () => req([fp32('features', [1, 4], [5.1, 3.5, 1.4, 0.2])]);
  const accepted = [rt.models.infer(v, sample()), rt.models.infer(v, sample())];
  const t0 = process.hrtime.bigint();
  const rejected = rt.models.infer(v, sample());
  await expect(rejected).rejects.toMatchObject({ statusCode: 503, retryAfterSeconds: 1 });
  const decidedUs = Number(process.hrtime.bigint() - t0) / 1000;
  expect(decidedUs).toBeLessThan(50_000); // decided without waiting for the batch (which waits 200 ms)
  await expect(rejected).rejects.toThrow(/exceeds maximum queue size \(2\)/);
  await Promise.all(accepted);
  const after = (await rt.metrics.inferenceCount.get()).values.find((x) => x.labels.model === 'tiny_queue')!.value;
  expect(after - before).toBe(2);
  const shed = (await rt.metrics.shed.get()).values.find((x) => x.labels.model === 'tiny_queue' && x.labels.cause === 'queue_full');
  expect(shed?.value).toBe(1);
});

test('over HTTP, a full queue sheds before the body is read: even a malformed body gets 503, not 400', async () => {
  const v = rt.models.version('tiny_queue');
  const sample = () => req([fp32('features', [1, 4], [5.1, 3.5, 1.4, 0.2])]);
  const accepted = [rt.models.infer(v, sample()), rt.models.infer(v, sample())];
  const res = await fetch(`${rt.url}/v2/models/tiny_queue/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs": [ this is not JSON' });
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('1');
  expect(await res.json()).toEqual({ error: 'model tiny_queue@1: exceeds maximum queue size (2); retry later' });
  await Promise.all(accepted);
  // Once the queue has room, the same body is judged on its merits.
  const after = await fetch(`${rt.url}/v2/models/tiny_queue/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs": [ this is not JSON' });
  expect(after.status).toBe(400);
});

test('a request whose queue timeout expires gets 503 and never runs; a request may only lower the timeout', async () => {
  const v = rt.models.version('short_timeout');
  const err = await rt.models.infer(v, req([fp32('features', [1, 4], [1, 2, 3, 4])])).catch((e) => e);
  expect(err).toBeInstanceOf(InferenceError);
  expect(err.statusCode).toBe(503);
  expect(err.message).toMatch(/request timeout expired after 1000 µs/);
  const ran = (await rt.metrics.inferenceCount.get()).values.find((x) => x.labels.model === 'short_timeout')?.value ?? 0;
  expect(ran).toBe(0);
  const longer = await rt.models.infer(v, req([fp32('features', [1, 4], [1, 2, 3, 4])]), 10_000_000).catch((e) => e);
  expect(longer.message).toMatch(/after 1000 µs/);
});

describe('batch formation (pure)', () => {
  const pending = (batch: number, width: number, ageUs: number, now: bigint): Pending => ({
    request: req([fp32('x', [batch, width], new Array(batch * width).fill(0))]),
    acceptedAt: now - BigInt(ageUs * 1000),
    resolve: () => undefined,
    reject: () => undefined,
    settled: false,
  });
  const policy = { maxBatchSize: 8, maxQueueDelayMicroseconds: 1000, preferredBatchSizes: [4], queuePolicy: { maxQueueSize: 0, defaultTimeoutMicroseconds: 0, allowTimeoutOverride: true } };
  const now = 10_000_000_000n;

  test('waits while the oldest request is younger than the delay', () => {
    expect(decideBatch([pending(1, 2, 100, now)], policy, now)).toEqual({ waitUs: 900 });
  });
  test('sends when the delay has passed', () => {
    expect(decideBatch([pending(1, 2, 1500, now), pending(1, 2, 10, now)], policy, now)).toEqual({ run: [0, 1] });
  });
  test('sends a preferred size at once', () => {
    expect(decideBatch([pending(2, 2, 1, now), pending(1, 2, 1, now), pending(1, 2, 1, now)], policy, now)).toEqual({ run: [0, 1, 2] });
  });
  test('sends a full batch at once, never over max_batch_size', () => {
    expect(decideBatch([pending(5, 2, 1, now), pending(3, 2, 1, now), pending(1, 2, 1, now)], policy, now)).toEqual({ run: [0, 1] });
    expect(decideBatch([pending(5, 2, 1, now), pending(4, 2, 1, now)], policy, now)).toEqual({ run: [0] });
  });
  test('only requests shaped like the oldest join its batch', () => {
    expect(decideBatch([pending(1, 2, 2000, now), pending(1, 3, 2000, now), pending(1, 2, 1, now)], policy, now)).toEqual({ run: [0, 2] });
  });
});
