/**
 * Admission by estimated queue wait (issue 15): from measured execution latency and depth, with
 * Triton's timeouts as the bound when they apply. The estimator is fed measurements directly, so
 * these checks do not depend on how fast this machine is.
 */
import type { InferRequest } from '../../runtime/protocol/types';
import { ModelQueue, ShedCause } from '../../runtime/scheduling/model-queue';
import { MAX_WAIT_EXECUTIONS, MIN_WAIT_BOUND_US, WaitEstimator } from '../../runtime/scheduling/wait-estimate';

const request: InferRequest = { parameters: {}, inputs: [] };
const policy = (defaultTimeoutMicroseconds = 0) => ({ maxQueueSize: 1000, defaultTimeoutMicroseconds, allowTimeoutOverride: true });

function queue(estimator: WaitEstimator, timeoutUs = 0) {
  const shed: ShedCause[] = [];
  const q = new ModelQueue('m@1', policy(timeoutUs), (c) => shed.push(c), estimator);
  return { q, shed };
}

describe('estimated queue wait', () => {
  test('before any execution was measured, only the queue length bounds admission', () => {
    const e = new WaitEstimator(2);
    expect(e.estimateUs(100)).toBeUndefined();
    const { q } = queue(e);
    for (let i = 0; i < 50; i++) void q.enqueue(request).catch(() => undefined);
    expect(q.refusal()).toBeUndefined();
  });

  test('the estimate is executions ahead × execution latency / workers', () => {
    const e = new WaitEstimator(2);
    e.record(8000, 4); // 8 ms per execution of 4 requests, 2 workers
    expect(e.estimateUs(0)).toBe(4000);
    expect(e.estimateUs(3)).toBe(4000);
    expect(e.estimateUs(4)).toBe(8000);
    expect(e.defaultBoundUs()).toBe(MAX_WAIT_EXECUTIONS * 8000);
    const fast = new WaitEstimator(2);
    fast.record(300, 1);
    expect(fast.defaultBoundUs()).toBe(MIN_WAIT_BOUND_US);
  });

  test(`without a timeout, requests beyond ${MAX_WAIT_EXECUTIONS} executions of wait are shed with queue_wait`, () => {
    const e = new WaitEstimator(1);
    e.record(10_000, 1);
    const { q, shed } = queue(e);
    for (let i = 0; i < MAX_WAIT_EXECUTIONS; i++) {
      expect(q.refusal()).toBeUndefined();
      void q.enqueue(request).catch(() => undefined);
    }
    const refused = q.refusal();
    expect(refused?.message).toMatch(new RegExp(`estimated queue wait ${(MAX_WAIT_EXECUTIONS + 1) * 10} ms \\(${MAX_WAIT_EXECUTIONS} waiting\\) exceeds the admission bound of ${MAX_WAIT_EXECUTIONS * 10} ms`));
    expect((refused as { statusCode?: number }).statusCode).toBe(503);
    expect((refused as { retryAfterSeconds?: number }).retryAfterSeconds).toBe(1);
    expect(shed).toEqual(['queue_wait']);
    expect(q.waiting).toBe(MAX_WAIT_EXECUTIONS);
  });

  test("Triton's timeouts are the bound when they apply: the model's default, lowered by the request's own", async () => {
    const e = new WaitEstimator(1);
    e.record(10_000, 1);
    const { q } = queue(e, 50_000);
    for (let i = 0; i < 5; i++) void q.enqueue(request).catch(() => undefined); // waits up to 50 ms: all admitted
    expect(q.waiting).toBe(5);
    expect(q.refusal()?.message).toMatch(/exceeds the request timeout of 50 ms/);
    const e2 = new WaitEstimator(1);
    e2.record(10_000, 1);
    const { q: q2 } = queue(e2, 50_000);
    void q2.enqueue(request).catch(() => undefined);
    // A request allowing only 15 ms is refused behind one other (estimate 20 ms) instead of being accepted to expire.
    await expect(q2.enqueue(request, 15_000)).rejects.toThrow(/exceeds the request timeout of 15 ms/);
    expect(q2.refusal(30_000)).toBeUndefined();
  });
});
