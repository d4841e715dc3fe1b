/**
 * HAProxy in front of real runtime processes, for the fleet tests and the soak.
 *
 * The health-check part of the configuration is computed from runtime/contract.ts — the same
 * definitions the AWS target group is built from — so these tests exercise the timing the platform
 * really uses: interval, rise/fall thresholds, check timeout, path and success codes. The instance
 * set, the ports and the retry policy are the harness's own.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HEALTH_CHECK, LOAD_BALANCER_IDLE_TIMEOUT_SECONDS } from '../../runtime/contract';

export interface Backend {
  name: string;
  host: string;
  port: number;
}

export interface RetryPolicy {
  /** HAProxy `retries`: extra attempts after the first. */
  retries: number;
  /** HAProxy `retry-on` keywords. */
  retryOn: string[];
  /** `option redispatch <n>`: redispatch to another server every n-th retry (1 = every retry). */
  redispatchInterval: number;
}

/** The harness's retry policy: connection failures, resets before a response, and stalled servers are retried elsewhere. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, retryOn: ['conn-failure', 'empty-response', 'response-timeout'], redispatchInterval: 1 };

export interface HaproxyOptions {
  frontendPort: number;
  backends: Backend[];
  retry?: RetryPolicy;
  /** HAProxy `timeout server` (ms): how long a request may wait for a response before `response-timeout` retries it. */
  serverTimeoutMs?: number;
  connectTimeoutMs?: number;
  clientTimeoutMs?: number;
}

/** ALB-style success codes ("200", "200,202", "200-299") as an HAProxy `http-check expect` rule. */
export function expectRule(successCodes: string): string {
  if (/^\d{3}$/.test(successCodes)) return `status ${successCodes}`;
  const alternatives = successCodes.split(',').map((part) => {
    const range = /^(\d{3})-(\d{3})$/.exec(part.trim());
    if (!range) {
      if (!/^\d{3}$/.test(part.trim())) throw new Error(`HEALTH_CHECK.successCodes: cannot read ${JSON.stringify(part)}`);
      return part.trim();
    }
    const codes: string[] = [];
    for (let c = Number(range[1]); c <= Number(range[2]); c++) codes.push(String(c));
    return codes.join('|');
  });
  return `rstatus ^(${alternatives.join('|')})$`;
}

/** The health-check settings as HAProxy writes them, straight from the contract. */
export function healthCheckSettings(): { inter: string; rise: number; fall: number; timeoutCheck: string; path: string; expect: string } {
  return {
    inter: `${HEALTH_CHECK.intervalSeconds}s`,
    rise: HEALTH_CHECK.healthyThreshold,
    fall: HEALTH_CHECK.unhealthyThreshold,
    timeoutCheck: `${HEALTH_CHECK.timeoutSeconds}s`,
    path: HEALTH_CHECK.path,
    expect: expectRule(HEALTH_CHECK.successCodes),
  };
}

export function renderHaproxyConfig(options: HaproxyOptions, statsSocket: string): string {
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const hc = healthCheckSettings();
  const lines = [
    'global',
    `  stats socket ${statsSocket} mode 600 level admin`,
    '  maxconn 4096',
    '',
    'defaults',
    '  mode http',
    `  timeout connect ${options.connectTimeoutMs ?? 1000}ms`,
    `  timeout client ${options.clientTimeoutMs ?? 60_000}ms`,
    `  timeout server ${options.serverTimeoutMs ?? 5000}ms`,
    // Contract: idle client connections close after the load balancer's idle timeout (as on the ALB).
    `  timeout http-keep-alive ${LOAD_BALANCER_IDLE_TIMEOUT_SECONDS}s`,
    // Contract: a check that takes longer than this counts as failed.
    `  timeout check ${hc.timeoutCheck}`,
    `  retries ${retry.retries}`,
    `  retry-on ${retry.retryOn.join(' ')}`,
    `  option redispatch ${retry.redispatchInterval}`,
    '',
    'frontend fleet',
    `  bind 127.0.0.1:${options.frontendPort}`,
    '  default_backend runtimes',
    '',
    'backend runtimes',
    '  balance roundrobin',
    // Which instance answered (tests attribute each response to one instance).
    '  http-response set-header x-served-by %s',
    '  option httpchk',
    `  http-check send meth GET uri ${hc.path} ver HTTP/1.1 hdr Host localhost`,
    `  http-check expect ${hc.expect}`,
    // Contract: interval between checks (the same when up, going down or down), rise and fall thresholds.
    `  default-server check inter ${hc.inter} fastinter ${hc.inter} downinter ${hc.inter} rise ${hc.rise} fall ${hc.fall}`,
    // Servers start in maintenance: `register` adds them the way a target group registers a target.
    ...options.backends.map((b) => `  server ${b.name} ${b.host}:${b.port} disabled`),
    '',
  ];
  return lines.join('\n');
}

export function haproxyBinary(): string | undefined {
  for (const candidate of [process.env.HAPROXY_BIN, '/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy']) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** One row of `show stat`, by column name (pxname, svname, status, scur, stot, chkdown, hrsp_5xx, wretr, wredis, ...). */
export type StatRow = Record<string, string>;

export class Haproxy {
  readonly url: string;
  readonly logs: string[] = [];
  private proc?: ChildProcess;
  private exitedPromise?: Promise<number | null>;

  private constructor(
    readonly options: HaproxyOptions,
    readonly dir: string,
    readonly configPath: string,
    readonly statsSocket: string,
  ) {
    this.url = `http://127.0.0.1:${options.frontendPort}`;
  }

  /** HAProxy's process id while it runs (its CPU is ours, not other work's, in measurements). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Writes the configuration, validates it with `haproxy -c`, starts HAProxy in the foreground and waits for its stats socket. */
  static async start(options: HaproxyOptions): Promise<Haproxy> {
    const bin = haproxyBinary();
    if (!bin) throw new Error('haproxy is not installed (scripts/ensure-system-packages.sh installs it)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-haproxy-'));
    const statsSocket = path.join(dir, 'stats.sock');
    const configPath = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(configPath, renderHaproxyConfig(options, statsSocket));
    execFileSync(bin, ['-c', '-q', '-f', configPath], { stdio: 'pipe' });
    const h = new Haproxy(options, dir, configPath, statsSocket);
    const proc = spawn(bin, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    h.proc = proc;
    h.exitedPromise = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    const collect = (c: Buffer) => h.logs.push(...c.toString().split('\n').filter(Boolean));
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`haproxy exited with ${proc.exitCode}:\n${h.logs.join('\n')}`);
      try {
        await h.stats();
        return h;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`haproxy stats socket not answering: ${(err as Error).message}\n${h.logs.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Sends one command to the admin socket and returns the answer. */
  command(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(this.statsSocket);
      const chunks: Buffer[] = [];
      sock.setTimeout(5000, () => sock.destroy(new Error(`stats socket: no answer to ${cmd}`)));
      sock.on('connect', () => sock.end(cmd + '\n'));
      sock.on('data', (c) => chunks.push(c));
      sock.on('error', reject);
      sock.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
  }

  /**
   * Registers a server as an ALB target group registers a target: it leaves maintenance in the
   * DOWN state and gets traffic only after `healthyThreshold` consecutive passing checks.
   */
  async register(name: string): Promise<void> {
    const answer = await this.command(`set server runtimes/${name} state ready; set server runtimes/${name} health down`);
    if (answer.trim() !== '') throw new Error(`haproxy: registering ${name}: ${answer.trim()}`);
  }

  /** `show stat` parsed into rows. */
  async stats(): Promise<StatRow[]> {
    const text = await this.command('show stat');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0 || !lines[0].startsWith('# ')) throw new Error(`unexpected show stat answer: ${text.slice(0, 200)}`);
    const header = lines[0].slice(2).split(',');
    return lines.slice(1).map((line) => {
      const cells = line.split(',');
      const row: StatRow = {};
      header.forEach((h, i) => h && (row[h] = cells[i] ?? ''));
      return row;
    });
  }

  /** The row of one server of the `runtimes` backend (or the backend's own row with name BACKEND). */
  async server(name: string): Promise<StatRow> {
    const row = (await this.stats()).find((r) => r.pxname === 'runtimes' && r.svname === name);
    if (!row) throw new Error(`no server ${name} in haproxy stats`);
    return row;
  }

  async servers(): Promise<Record<string, StatRow>> {
    const out: Record<string, StatRow> = {};
    for (const row of await this.stats()) if (row.pxname === 'runtimes') out[row.svname] = row;
    return out;
  }

  /**
   * `servers()` once the counters have settled: no session open on the backend and two reads in a row equal.
   * HAProxy counts a response (hrsp_2xx, ...) when the stream ends, which can be just after the client
   * has read it, so a snapshot taken the moment a load generator finishes may miss its last response.
   */
  async settledServers(timeoutMs = 3000): Promise<Record<string, StatRow>> {
    const counters = (rows: Record<string, StatRow>) =>
      JSON.stringify(Object.entries(rows).map(([k, r]) => [k, r.scur, r.stot, r.hrsp_2xx, r.hrsp_4xx, r.hrsp_5xx, r.eresp, r.econ]));
    const deadline = Date.now() + timeoutMs;
    let last = await this.servers();
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      const next = await this.servers();
      if ((Number(next.BACKEND?.scur) || 0) === 0 && counters(next) === counters(last)) return next;
      if (Date.now() > deadline) return next;
      last = next;
    }
  }

  /** Waits until the server's status (UP, DOWN, "UP 1/2", "DOWN 1/2", ...) matches; returns when it did (ms since epoch). */
  async waitForStatus(name: string, match: (status: string) => boolean, timeoutMs: number, stepMs = 100): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = (await this.server(name)).status;
      if (match(last)) return Date.now();
      await new Promise((r) => setTimeout(r, stepMs));
    }
    throw new Error(`haproxy server ${name}: status still ${JSON.stringify(last)} after ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGUSR1'); // soft stop
      const timer = setTimeout(() => this.proc?.kill('SIGKILL'), 3000);
      await this.exitedPromise;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export const isUp = (status: string): boolean => status === 'UP';
/** DOWN for good (not "DOWN 1/2", which is on its way back up). */
export const isDown = (status: string): boolean => status === 'DOWN';

/** A free loopback TCP port (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
