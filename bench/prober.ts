/**
 * A second, low-rate client: GET /v2/health/ready every --interval-ms for --duration-ms on its
 * own keep-alive connection, in its own process so the load generator's event loop does not
 * inflate what it measures. Prints one JSON line with the latency percentiles (ms) and the CPU
 * the prober itself used (% of one core while probing; ms in all, its start included), which the
 * bench takes out of a cell's "other work".
 *
 * It writes the request on a raw socket and reads only the status line and Content-Length of
 * the answer, so that the probe's own client code adds as little as it can to what it measures
 * (p50 1.3–1.8 ms against node:http's 2.7 ms, answered by the ideal shedder on a slow day) and to
 * the CPU it takes from the server beside it.
 *
 *   node dist/bench/prober.js --url http://127.0.0.1:N --duration-ms 8000 [--interval-ms 20]
 */
import net from 'node:net';
import { percentile, round } from './lib/common';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const url = new URL('/v2/health/ready', arg('url', 'http://127.0.0.1:8080'));
const durationMs = Number(arg('duration-ms', '8000'));
const intervalMs = Number(arg('interval-ms', '20'));
const TIMEOUT_MS = 5000;
const REQUEST = Buffer.from(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`, 'latin1');

/** One keep-alive connection; probe() resolves with the status of the next complete response (0: failed). */
class Connection {
  private socket?: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting?: (status: number) => void;

  probe(): Promise<number> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fail(), TIMEOUT_MS);
      this.waiting = (status) => {
        clearTimeout(timer);
        resolve(status);
      };
      this.connected().write(REQUEST);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private connected(): net.Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    this.buffered = Buffer.alloc(0);
    const s = net.connect(Number(url.port || 80), url.hostname);
    s.setNoDelay(true);
    s.on('data', (c: Buffer) => this.onData(c));
    // Only the current connection's end fails the probe in flight (an old one may close late).
    const gone = () => {
      if (this.socket === s) this.fail();
    };
    s.on('error', gone);
    s.on('close', gone);
    this.socket = s;
    return s;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    const head = this.buffered.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffered.length < end + 4 + length) return;
    this.buffered = this.buffered.subarray(end + 4 + length);
    // A server that closes after this answer: the next probe opens a new connection.
    if (/\r\nconnection:\s*close/i.test(head)) {
      this.socket?.destroy();
      this.socket = undefined;
    }
    this.settle(Number(head.slice(9, 12)));
  }

  private fail(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.settle(0);
  }

  private settle(status: number): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.(status);
  }
}

async function main(): Promise<void> {
  const latencies: number[] = [];
  let failures = 0;
  const conn = new Connection();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const sent = Date.now();
    const t0 = process.hrtime.bigint();
    const status = await conn.probe();
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (status !== 200) failures++;
    const wait = intervalMs - (Date.now() - sent);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  conn.close();
  const probing = process.cpuUsage(cpuStart);
  const cpuPercent = ((probing.user + probing.system) / 1000 / (performance.now() - started)) * 100;
  const all = process.cpuUsage(); // since the process started: its boot included
  const cpuMs = (all.user + all.system) / 1000;
  process.stdout.write(
    JSON.stringify({ probes: latencies.length, failures, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(Math.max(...latencies)), cpuPercent: round(cpuPercent, 1), cpuMs: round(cpuMs, 1) }) + '\n',
  );
}

void main();
