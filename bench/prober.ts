/**
 * A second, low-rate client: GET /v2/health/ready every --interval-ms for --duration-ms on its
 * own keep-alive connection, in its own process so the load generator's event loop does not
 * inflate what it measures. Prints one JSON line with the latency percentiles (ms).
 *
 *   node dist/bench/prober.js --url http://127.0.0.1:N --duration-ms 8000 [--interval-ms 50]
 */
import http from 'node:http';
import { percentile, round } from './lib/common';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const url = new URL('/v2/health/ready', arg('url', 'http://127.0.0.1:8080'));
const durationMs = Number(arg('duration-ms', '8000'));
const intervalMs = Number(arg('interval-ms', '50'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function probe(): Promise<{ ms: number; status: number }> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const req = http.get(url, { agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, status: 0 }));
  });
}

async function main(): Promise<void> {
  const latencies: number[] = [];
  let failures = 0;
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const started = Date.now();
    const { ms, status } = await probe();
    latencies.push(ms);
    if (status !== 200) failures++;
    const wait = intervalMs - (Date.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  agent.destroy();
  process.stdout.write(
    JSON.stringify({ probes: latencies.length, failures, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(Math.max(...latencies)) }) + '\n',
  );
}

void main();
