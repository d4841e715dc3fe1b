/**
 * Admission by estimated queue wait (issue 15): from measured execution cost and depth, with
 * Triton's timeouts as the bound. The estimator is fed measurements directly, so these checks do
 * not depend on how fast this machine is.
 */
import { InferenceError, shedError } from '../../runtime/errors';
import type { InferRequest } from '../../runtime/protocol/types';
import { ModelQueue, ShedCause } from '../../runtime/scheduling/model-queue';
import { WaitEstimator } from '../../runtime/scheduling/wait-estimate';

const request: InferRequest = { parameters: {}, inputs: [] };
const policy = (defaultTimeoutMicroseconds = 0) => ({ maxQueueSize: 1000, defaultTimeoutMicroseconds, allowTimeoutOverride: true });

function queue(estimator: WaitEstimator, timeoutUs = 0) {
  const shed: ShedCause[] = [];
  const q = new ModelQueue('m@1', policy(timeoutUs), (c) => shed.push(c), estimator);
  return { q, shed };
}
const fill = (q: ModelQueue, n: number) => {
  for (let i = 0; i < n; i++) void q.enqueue(request).catch(() => undefined);
};

describe('estimated queue wait', () => {
  test('the estimate is (ahead + 1) × latency per request / workers, whatever the batches were', () => {
    const e = new WaitEstimator(2);
    expect(e.estimateUs(100)).toBeUndefined();
    e.record(8000, 4); // 8 ms for 4 requests: 2 ms each, 2 workers
    expect(e.estimateUs(0)).toBe(1000);
    expect(e.estimateUs(9)).toBe(10_000);
  });

  test('without a timeout only the queue length bounds admission', () => {
    const e = new WaitEstimator(1);
    e.record(10_000, 1);
    const { q, shed } = queue(e);
    fill(q, 200); // 2 s of estimated wait
    expect(q.refusal()).toBeUndefined();
    expect(shed).toEqual([]);
  });

  test("a request that would outlive the model's default timeout in the queue is refused at once (queue_wait)", () => {
    const e = new WaitEstimator(1);
    e.record(10_000, 1);
    const { q, shed } = queue(e, 50_000);
    fill(q, 4); // the 5th would wait 50 ms: still admitted
    expect(q.refusal()).toBeUndefined();
    fill(q, 1);
    const refused = q.refusal();
    expect(refused?.message).toMatch(/estimated queue wait 60 ms \(5 waiting\) exceeds the request timeout of 50 ms/);
    expect((refused as { statusCode?: number }).statusCode).toBe(503);
    expect((refused as { retryAfterSeconds?: number }).retryAfterSeconds).toBe(1);
    expect(shed).toEqual(['queue_wait']);
  });

  test("the request's own timeout lowers the bound; a refused request never enters the queue", async () => {
    const e = new WaitEstimator(1);
    e.record(10_000, 1);
    const { q } = queue(e, 50_000);
    fill(q, 1);
    await expect(q.enqueue(request, 15_000)).rejects.toThrow(/exceeds the request timeout of 15 ms/);
    expect(q.waiting).toBe(1);
    expect(q.refusal(30_000)).toBeUndefined();
  });
});

describe('work already handed to the workers counts as ahead', () => {
  test('requests taken for execution and not finished lengthen the estimate until they finish', () => {
    const e = new WaitEstimator(1);
    e.record(10_000, 1);
    const { q, shed } = queue(e, 50_000);
    fill(q, 5); // the 5th would start after 50 ms: admitted
    expect(q.waiting).toBe(5);
    q.take([0, 1]); // one batch of 2 running: 3 waiting, 2 executing, the next starts after 5 others
    expect(q.executing).toBe(2);
    expect(q.refusal()?.message).toMatch(/estimated queue wait 60 ms \(3 waiting, 2 executing\) exceeds the request timeout of 50 ms/);
    q.finished(2); // the batch is done: 3 waiting, the next would start after 40 ms
    expect(q.refusal()).toBeUndefined();
    expect(shed).toEqual(['queue_wait']);
  });
});

describe('estimated queue wait never latches', () => {
  test('a request arriving to an empty queue is admitted even when the last executions were slower than its timeout', () => {
    const e = new WaitEstimator(1);
    e.record(100_000, 1); // one 100 ms execution, against a 15 ms timeout
    const { q, shed } = queue(e, 15_000);
    expect(q.refusal()).toBeUndefined();
    fill(q, 1);
    expect(q.refusal()?.message).toMatch(/estimated queue wait 200 ms \(1 waiting\) exceeds the request timeout of 15 ms/);
    expect(shed).toEqual(['queue_wait']);
  });
});

describe('shed errors', () => {
  test('carry their message and Retry-After but no stack frames, and leave stack capture as it was', () => {
    const before = Error.stackTraceLimit;
    const err = shedError('queue full; retry later', 1);
    expect(err).toBeInstanceOf(InferenceError);
    expect(err.statusCode).toBe(503);
    expect(err.retryAfterSeconds).toBe(1);
    expect(err.message).toBe('queue full; retry later');
    expect(err.stack?.split('\n').filter((l) => l.trim().startsWith('at '))).toEqual([]);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('x').stack).toMatch(/\n\s+at /);
  });
});
