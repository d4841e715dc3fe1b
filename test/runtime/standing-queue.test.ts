/**
 * A queue that stood full is kept short (runtime/scheduling/standing-queue.ts): once a version's
 * queue reaches max_queue_size, the oldest requests beyond a short line are shed and admission
 * keeps to that line while arrivals outrun execution; a queue that never fills (closed-loop clients fewer
 * than max_queue_size) is never touched. A virtual clock drives the rule, so nothing here depends
 * on this machine's speed.
 */
import type { InferRequest } from '../../runtime/protocol/types';
import { ModelQueue, ShedCause } from '../../runtime/scheduling/model-queue';
import { StandingQueueRule } from '../../runtime/scheduling/standing-queue';

const request: InferRequest = { parameters: {}, inputs: [] };

function standingQueue(maxQueueSize: number, shortLine: number) {
  const clock = { ms: 0 };
  const shed: ShedCause[] = [];
  const q = new ModelQueue('m@1', { maxQueueSize, defaultTimeoutMicroseconds: 0, allowTimeoutOverride: true }, (c) => shed.push(c), undefined, new StandingQueueRule(shortLine, 1000, () => clock.ms));
  const outcomes: Array<{ i: number; error?: Error }> = [];
  let n = 0;
  const offer = (count: number) => {
    for (let k = 0; k < count; k++) {
      const i = n++;
      q.enqueue(request).then(
        () => outcomes.push({ i }),
        (error: Error) => outcomes.push({ i, error }),
      );
    }
  };
  return { q, clock, shed, offer, outcomes };
}

const settle = () => new Promise((r) => setImmediate(r));

test('a queue that never fills is never shortened: closed-loop clients fewer than max_queue_size all wait', async () => {
  const { q, shed, offer, outcomes } = standingQueue(16, 4);
  offer(15);
  await settle();
  expect(q.waiting).toBe(15);
  expect(shed).toEqual([]);
  expect(outcomes).toEqual([]);
  expect(q.refusal()).toBeUndefined();
});

test('full at max_queue_size: the oldest beyond the short line are shed (503, Retry-After), the newest wait, and admission keeps to the line', async () => {
  const { q, shed, offer, outcomes } = standingQueue(16, 4);
  offer(16);
  expect(q.waiting).toBe(16);
  offer(1); // the 17th finds the queue full
  await settle();
  expect(q.waiting).toBe(4);
  // Requests 0..11 (the oldest) were shed; 12..15 (the newest) still wait; 16 was refused at the door.
  const failed = outcomes.filter((o) => o.error).map((o) => o.i).sort((a, b) => a - b);
  expect(failed).toEqual([...Array.from({ length: 12 }, (_, i) => i), 16]);
  const evicted = outcomes.find((o) => o.i === 0)!.error as Error & { statusCode?: number; retryAfterSeconds?: number };
  expect(evicted.statusCode).toBe(503);
  expect(evicted.retryAfterSeconds).toBe(1);
  expect(evicted.message).toMatch(/queue stood full \(max_queue_size 16\): requests arrive faster than they execute, so only the newest 4 wait/);
  expect(shed.filter((c) => c === 'standing_queue')).toHaveLength(12);
  expect(shed.filter((c) => c === 'queue_full')).toHaveLength(1);
  expect(q.snapshot().every((p) => !p.settled)).toBe(true);

  // While the rule holds, the short line is the limit: a 5th waiting request is refused.
  expect(q.refusal()?.message).toMatch(/only the newest 4 wait/);
  q.take([0]);
  expect(q.refusal()).toBeUndefined();
});

test('the short line holds while it refuses more than it admits (arrivals beyond 2× execution), and lapses after an interval with fewer refusals', async () => {
  const { q, clock, offer, shed } = standingQueue(16, 4);
  offer(17);
  await settle();
  expect(q.waiting).toBe(4);
  // An open loop at 3×: each interval the line admits what executes (4 at a time) and refuses twice that.
  for (let interval = 1; interval <= 2; interval++) {
    for (let k = 0; k < 5; k++) {
      q.take([0, 1, 2, 3]);
      offer(12);
    }
    await settle();
    clock.ms = interval * 1000 - 1;
    expect(q.full).toBe(true);
    clock.ms = interval * 1000;
    expect(q.full).toBe(true); // still outrunning execution: holds for another interval
  }
  // Now 1.5×: 20 admitted and 10 refused in the interval, fewer refusals than admissions.
  for (let k = 0; k < 5; k++) {
    q.take([0, 1, 2, 3]);
    offer(6);
  }
  await settle();
  clock.ms = 2999;
  expect(q.full).toBe(true);
  clock.ms = 3000;
  expect(q.full).toBe(false); // lapsed: max_queue_size admits again
  offer(12);
  expect(q.waiting).toBe(16);
  const standingSoFar = shed.filter((c) => c === 'standing_queue').length;
  expect(standingSoFar).toBe(12);
  offer(1); // full again: an open loop outruns execution once more
  await settle();
  expect(q.waiting).toBe(4);
  expect(shed.filter((c) => c === 'standing_queue')).toHaveLength(24);
});

test('an interval in which nothing arrives lets the line lapse', async () => {
  const { q, clock, offer } = standingQueue(16, 4);
  offer(17);
  await settle();
  clock.ms = 1000;
  expect(q.full).toBe(true); // the refusal that found it full counts in the first interval
  clock.ms = 2000;
  expect(q.full).toBe(false);
});

test('a short line as long as max_queue_size (or longer) changes nothing: the queue sheds new arrivals only, as Triton does', async () => {
  const { q, offer, outcomes, shed } = standingQueue(4, 8);
  offer(5);
  await settle();
  expect(q.waiting).toBe(4);
  expect(outcomes.map((o) => o.i)).toEqual([4]);
  expect(shed).toEqual(['queue_full']);
});

test('an unbounded queue (max_queue_size 0, Triton’s default) is never full', () => {
  const { q, offer, shed } = standingQueue(0, 4);
  offer(100);
  expect(q.waiting).toBe(100);
  expect(q.full).toBe(false);
  expect(shed).toEqual([]);
});

test('a shed request’s timer is cleared: it is not shed a second time when its timeout would have expired', async () => {
  const shed: ShedCause[] = [];
  const clock = { ms: 0 };
  const q = new ModelQueue('m@1', { maxQueueSize: 4, defaultTimeoutMicroseconds: 20_000, allowTimeoutOverride: true }, (c) => shed.push(c), undefined, new StandingQueueRule(2, 1000, () => clock.ms));
  const results: string[] = [];
  for (let i = 0; i < 5; i++) q.enqueue(request).then(() => results.push('ok'), (e: Error) => results.push(e.message.slice(0, 40)));
  await new Promise((r) => setTimeout(r, 60));
  // 2 shed by the rule, 1 refused when full, then the 2 left time out after 20 ms: each counted once.
  expect(shed.filter((c) => c === 'standing_queue')).toHaveLength(2);
  expect(shed.filter((c) => c === 'queue_full')).toHaveLength(1);
  expect(shed.filter((c) => c === 'timeout')).toHaveLength(2);
  expect(results).toHaveLength(5);
});
