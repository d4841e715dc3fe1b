/**
 * The idle heap trim (runtime/idle-heap-trim.ts): one full collection once the server is quiet
 * and its heap has grown, never while requests arrive. Clock and heap are the test's own; the
 * fuzz test (test/fleet/fuzz.test.ts) shows RSS coming back on a real instance.
 */
import { IdleHeapTrim, exposedGc } from '../../runtime/idle-heap-trim';

function setup() {
  let clock = 0;
  let heap = 50e6;
  const collected: number[] = [];
  const trim = new IdleHeapTrim({ collect: () => (collected.push(heap), (heap = 50e6)), heapUsed: () => heap, idleMs: 200, minGrowthBytes: 8e6, minIntervalMs: 1000, now: () => clock });
  return { trim, collected, tick: (ms: number) => (clock += ms), grow: (b: number) => (heap += b) };
}

test('quiet and grown: one collection, then nothing until the heap grows again', () => {
  const t = setup();
  t.grow(30e6);
  t.tick(250);
  expect(t.trim.check()).toBe(true);
  expect(t.collected).toEqual([80e6]);
  t.tick(250);
  expect(t.trim.check()).toBe(false);
  t.grow(5e6); // below the growth threshold
  t.tick(250);
  expect(t.trim.check()).toBe(false);
  t.grow(20e6); // grown again, but within a second of the last trim
  t.tick(100);
  expect(t.trim.check()).toBe(false);
  t.tick(500);
  expect(t.trim.check()).toBe(true);
  expect(t.trim.trims).toBe(2);
});

test('never while requests arrive, however much the heap grew', () => {
  const t = setup();
  t.grow(100e6);
  for (let i = 0; i < 50; i++) {
    t.trim.activity();
    t.tick(150);
    expect(t.trim.check()).toBe(false);
  }
  // Quiet counts from the look that saw the last request (no clock is read per request).
  t.tick(100);
  expect(t.trim.check()).toBe(false);
  t.tick(100);
  expect(t.trim.check()).toBe(true);
});

test('gc is found only when node exposes it', () => {
  const g = globalThis as { gc?: unknown };
  const had = Object.prototype.hasOwnProperty.call(g, 'gc');
  const before = g.gc;
  try {
    const gc = () => undefined;
    g.gc = gc;
    expect(exposedGc()).toBe(gc);
    g.gc = 'not a function';
    expect(exposedGc()).toBeUndefined();
    delete g.gc;
    expect(exposedGc()).toBeUndefined();
  } finally {
    if (had) g.gc = before;
    else delete g.gc;
  }
});
