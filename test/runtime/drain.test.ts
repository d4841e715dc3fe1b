/**
 * Graceful drain on a real child process (the compiled CLI, as instances run it): after SIGTERM
 * readiness turns 503 at once while requests are still served for the drain delay, requests in
 * flight when the listener closes complete, and the process exits 0.
 */
import fs from 'node:fs';
import http from 'node:http';
import { EXAMPLES, isReady, spawnRuntime, waitFor } from '../helpers/runtime';
import { examplesWithZoo } from '../helpers/zoo';

// The example models with the real-model zoo beside them (but its heaviest model, see
// examplesWithZoo): drain holds with both served.
let repository: string;
beforeAll(() => {
  repository = examplesWithZoo();
}, 600_000);
afterAll(() => fs.rmSync(repository, { recursive: true, force: true }));

const N = 3 * 48 * 192;
const heavyBody = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [16, 3, 48, 192], data: new Array(16 * N).fill(0.25) }] });
const irisBody = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });

/** A fresh connection per request, as a load balancer opens them. */
function request(url: string, method: string, path: string, body?: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url + path, { method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('SIGTERM: ready 503 at once, still serving during the drain delay, in-flight requests complete, exit 0', async () => {
  const rt = await spawnRuntime(['--model-repository', repository, '--port', '0', '--workers', '1', '--intra-op-threads', '1', '--drain-delay', '2', '--exit-timeout', '20']);
  try {
    await waitFor(() => isReady(rt.url), 60_000);
    expect((await request(rt.url, 'POST', '/v2/models/iris/infer', irisBody)).status).toBe(200);

    rt.proc.kill('SIGTERM');
    await waitFor(async () => (await request(rt.url, 'GET', '/v2/health/ready')).status === 503, 2_000, 10);
    const readyDuringDrain = await request(rt.url, 'GET', '/v2/health/ready');
    expect(readyDuringDrain.status).toBe(503);
    expect(JSON.parse(readyDuringDrain.body).reason).toMatch(/draining/);
    // Liveness stays 200: the process is healthy, only leaving.
    expect((await request(rt.url, 'GET', '/v2/health/live')).status).toBe(200);

    // Requests are still served during the drain delay, and told to reconnect elsewhere.
    const during = await request(rt.url, 'POST', '/v2/models/iris/infer', irisBody);
    expect(during.status).toBe(200);
    expect(during.headers.connection).toBe('close');

    // Heavy requests accepted just before the listener closes must all complete.
    const inFlight = Array.from({ length: 6 }, () => request(rt.url, 'POST', '/v2/models/text-orientation/infer', heavyBody));
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);

    expect(await rt.exited).toBe(0);
    const messages = rt.logs.map((l) => { try { return JSON.parse(l).msg; } catch { return ''; } });
    expect(messages).toEqual(expect.arrayContaining(['draining: readiness now 503, still serving', 'closing listener; finishing in-flight requests', 'stopped']));
    // After exit nothing listens.
    await expect(request(rt.url, 'GET', '/v2/health/live')).rejects.toThrow();
  } finally {
    rt.proc.kill('SIGKILL');
  }
}, 120_000);

test('requests still running when the listener closes finish before exit', async () => {
  const rt = await spawnRuntime(['--model-repository', repository, '--port', '0', '--workers', '1', '--intra-op-threads', '1', '--drain-delay', '0', '--exit-timeout', '30']);
  try {
    await waitFor(() => isReady(rt.url), 60_000);
    const inFlight = Array.from({ length: 8 }, () => request(rt.url, 'POST', '/v2/models/text-orientation/infer', heavyBody));
    // Let the requests be accepted, then stop with no drain delay: the listener closes at once.
    await new Promise((r) => setTimeout(r, 300));
    rt.proc.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await rt.exited).toBe(0);
  } finally {
    rt.proc.kill('SIGKILL');
  }
}, 120_000);

test('invalid options fail at start naming the option, the value and what is allowed', async () => {
  await expect(spawnRuntime(['--model-repository', EXAMPLES, '--port', 'eighty'])).rejects.toThrow(/--port: got "eighty", expected an integer from 0 to 65535/);
  await expect(spawnRuntime(['--model-repository', EXAMPLES], { ONNX_FLEET_LOG_LEVEL: 'loud' })).rejects.toThrow(/ONNX_FLEET_LOG_LEVEL: got "loud", expected one of fatal, error, warn, info, debug, trace, silent/);
});
