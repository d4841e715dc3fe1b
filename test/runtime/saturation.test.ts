/**
 * Health, metadata and metrics are answered by the main thread while every inference worker is
 * busy: the load balancer must never take a busy instance for a dead one.
 */
import type { Runtime } from '../../runtime/server';
import { EXAMPLES, startTestRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await startTestRuntime(EXAMPLES);
});
afterAll(async () => {
  await rt?.stop();
});

test('health, metadata and metrics answer while all workers are saturated', async () => {
  const n = 16 * 3 * 48 * 192;
  const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [16, 3, 48, 192], data: new Array(n).fill(0.1) }] });
  let finished = 0;
  const load = Array.from({ length: 24 }, () =>
    fetch(`${rt.url}/v2/models/text-orientation/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => {
      await r.arrayBuffer();
      finished++;
      return r.status;
    }),
  );
  // Wait until the runtime has accepted work and both workers are running it.
  while (rt.models.pending < 4) await new Promise((r) => setTimeout(r, 5));

  const answered: number[] = [];
  for (const path of ['/v2/health/live', '/v2/health/ready', '/v2/models/iris', '/metrics', '/v2/health/ready']) {
    const res = await fetch(rt.url + path);
    await res.arrayBuffer();
    answered.push(res.status);
    // Every probe came back while inference work was still queued or running.
    expect(rt.models.pending).toBeGreaterThan(0);
  }
  expect(answered).toEqual([200, 200, 200, 200, 200]);
  expect(finished).toBeLessThan(load.length);
  expect(await Promise.all(load)).toEqual(new Array(load.length).fill(200));
}, 120_000);
