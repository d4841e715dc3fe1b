/**
 * The bench's readiness prober (bench/prober.ts): it counts every probe, reads keep-alive answers
 * split across packets, counts what is not a 200 as a failure, and reconnects when the server
 * closes the connection. Runs the compiled prober as the bench does (npm test builds first).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { withoutProber } from '../../bench/lib/common';

const PROBER = path.join(__dirname, '..', '..', 'dist', 'bench', 'prober.js');

interface Probe {
  probes: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
  cpuPercent: number;
  cpuMs: number;
}

function runProber(url: string, durationMs: number, intervalMs: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PROBER, '--url', url, '--duration-ms', String(durationMs), '--interval-ms', String(intervalMs)], (err, stdout) => {
      if (err) return reject(err);
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Probe);
    });
  });
}

async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

test('a ready server: every probe a 200 on one connection, answers split across writes included', async () => {
  const sockets = new Set<unknown>();
  let n = 0;
  const s = await serve((req, res) => {
    sockets.add(req.socket);
    n++;
    expect(req.url).toBe('/v2/health/ready');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 14 });
    // Head and body in separate packets, every other answer.
    if (n % 2) {
      res.flushHeaders();
      setTimeout(() => res.end('{"ready":true}'), 2);
    } else res.end('{"ready":true}');
  });
  try {
    const p = await runProber(s.url, 800, 20);
    expect(p.probes).toBeGreaterThanOrEqual(3);
    expect(p.probes).toBe(n);
    expect(p.failures).toBe(0);
    expect(p.p99).toBeGreaterThanOrEqual(p.p50);
    expect(p.max).toBeGreaterThanOrEqual(p.p99);
    expect(p.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(p.cpuMs).toBeGreaterThan(0); // its start included: what the bench takes out of "other work"
    expect(sockets.size).toBe(1);
  } finally {
    await s.close();
  }
});

test('503s are failures, and a server that closes after each answer is reconnected to', async () => {
  let n = 0;
  const s = await serve((_req, res) => {
    n++;
    const ready = n % 2 === 0;
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ ready }));
  });
  try {
    const p = await runProber(s.url, 800, 20);
    expect(p.probes).toBeGreaterThanOrEqual(3);
    expect(p.probes).toBe(n);
    expect(p.failures).toBe(Math.ceil(n / 2));
  } finally {
    await s.close();
  }
});

test("a cell's other work leaves out the prober's own CPU", () => {
  // 250 ms of prober CPU in a 5 s window is 5 % of a core.
  expect(withoutProber(12, { cpuMs: 250 }, 5000)).toBe(7);
  expect(withoutProber(3, { cpuMs: 250 }, 5000)).toBe(0);
  expect(withoutProber(12, undefined, 5000)).toBe(12);
});
