/**
 * Health, metadata and metrics are answered by the main thread while every inference worker is
 * busy: the load balancer must never take a busy instance for a dead one.
 */
import type { Runtime } from '../../runtime/server';
import { EXAMPLES, startTestRuntime } from '../helpers/runtime';
import { closedLoop } from '../helpers/load';

let rt: Runtime;
beforeAll(async () => {
  rt = await startTestRuntime(EXAMPLES);
});
afterAll(async () => {
  await rt?.stop();
});

/** A binary-extension request (JSON header + raw FP32): decoding costs nothing, so work piles up on the workers. */
function binaryRequest(batch: number): { body: Buffer; headers: Record<string, string> } {
  const count = batch * 3 * 48 * 192;
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [batch, 3, 48, 192], parameters: { binary_data_size: count * 4 } }] }));
  const data = Buffer.from(new Float32Array(count).fill(0.1).buffer);
  return { body: Buffer.concat([header, data]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } };
}

test('health, metadata and metrics answer while all workers are saturated', async () => {
  const { body, headers } = binaryRequest(16);
  // Closed-loop load that keeps going until every probe is back: a fixed burst can drain before the last
  // probe returns on a slow box (CI saw that twice, with 40 and with 120 requests of batch 16).
  const statuses: number[] = [];
  const load = closedLoop(24, async () => {
    const r = await fetch(`${rt.url}/v2/models/text-orientation/infer`, { method: 'POST', headers, body });
    await r.arrayBuffer();
    return r.status;
  }, (status) => statuses.push(status));
  try {
    // Wait until both workers are busy and more work is queued behind them.
    const deadline = Date.now() + 30_000;
    while (rt.models.pending < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(rt.models.pending).toBeGreaterThanOrEqual(4);

    const answered: number[] = [];
    for (const path of ['/v2/health/live', '/v2/health/ready', '/v2/models/iris', '/metrics', '/v2/health/ready']) {
      const res = await fetch(rt.url + path);
      await res.arrayBuffer();
      answered.push(res.status);
      // Every probe came back while inference work was still queued or running.
      expect(rt.models.pending).toBeGreaterThan(0);
    }
    expect(answered).toEqual([200, 200, 200, 200, 200]);
  } finally {
    await load.stop();
  }
  expect(statuses.length).toBeGreaterThan(0);
  expect(statuses).toEqual(new Array(statuses.length).fill(200));
}, 120_000);
