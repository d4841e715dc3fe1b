/**
 * A bounded load generator with exact counts, on node:http keep-alive connections.
 *
 * Closed loop (no rate): `concurrency` clients each send the next request when the previous
 * answered. Open loop (rate): requests leave on a fixed schedule, never more than `concurrency`
 * at once; a request the schedule wanted while all slots were busy is counted as `skipped`, never
 * queued, so the generator itself stays bounded. Every request sent ends in exactly one of
 * `statuses` or `errors`: sent = Σ statuses + Σ errors once the run is stopped.
 */
import http from 'node:http';
import { LOAD_BALANCER_IDLE_TIMEOUT_SECONDS } from '../../runtime/contract';

export interface LoadRequest {
  method?: string;
  path: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
}

export interface LoadOptions {
  /** http://host:port */
  url: string;
  request: LoadRequest | (() => LoadRequest);
  /** Most requests in flight at once (= sockets). */
  concurrency: number;
  /** Requests per second (open loop). Omit for a closed loop. */
  ratePerSecond?: number;
  /** Stop by itself after this long. */
  durationMs?: number;
  /** Stop by itself after this many requests were sent. */
  total?: number;
  /**
   * Close a keep-alive connection after it sat idle this long (default: 5 s less than the load
   * balancer's idle timeout in the contract). A client that keeps idle connections longer than the
   * load balancer does will now and then write a request onto a socket the load balancer is
   * closing, and get ECONNRESET: the classic keep-alive race, not a fault of the fleet.
   */
  idleTimeoutMs?: number;
  /** Give up on one request after this long (counted as error "timeout"). */
  timeoutMs?: number;
  /** Statuses that count as success (default [200]). */
  okStatuses?: number[];
  /** Statuses that count as shed (a deliberate, retryable refusal): answered with Retry-After. */
  shedStatuses?: number[];
  /**
   * Open loop: requests sent in the first `warmupMs` (the schedule runs from the start) are not
   * counted, so the sockets' opening and the catch-up behind it stay out of the figures.
   */
  warmupMs?: number;
}

export interface Failure {
  /** ms since the start of the run. */
  at: number;
  status?: number;
  error?: string;
  body?: string;
}

export interface LoadResult {
  sent: number;
  ok: number;
  /** Responses with a shed status and a Retry-After header. */
  shed: number;
  /** Errors (no response) plus responses that are neither ok nor properly shed. */
  failed: number;
  skipped: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  failures: Failure[];
  durationMs: number;
  /** Responses (any status) per second. */
  rps: number;
  /** ok responses per second. */
  okRps: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** The same, of ok responses and of shed responses apart (a fast refusal must not flatter the accepted p99). */
  okLatencyMs: { p50: number; p99: number; max: number };
  shedLatencyMs: { p50: number; p99: number; max: number };
}

export interface LoadHandle {
  /** Counts so far (requests still in flight are not in them). */
  snapshot(): LoadResult;
  readonly inFlight: number;
  /** Stops sending, waits for every request in flight, returns the final counts. */
  stop(): Promise<LoadResult>;
  /** Resolves when the run stops by itself (durationMs / total) or is stopped. */
  done: Promise<LoadResult>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function quantiles(sample: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...sample].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(percentile(sorted, 50)), p99: r(percentile(sorted, 99)), max: r(sorted[sorted.length - 1] ?? 0) };
}

export function startLoad(options: LoadOptions): LoadHandle {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: options.concurrency,
    maxFreeSockets: options.concurrency,
    // Node applies `timeout` to idle pooled sockets (each request sets its own below).
    timeout: options.idleTimeoutMs ?? (LOAD_BALANCER_IDLE_TIMEOUT_SECONDS - 5) * 1000,
  });
  const okStatuses = options.okStatuses ?? [200];
  const shedStatuses = options.shedStatuses ?? [];
  const started = performance.now();
  /** Requests sent from here on are counted (open loop with warmupMs). */
  const measuredFrom = started + (options.ratePerSecond === undefined ? 0 : options.warmupMs ?? 0);
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const failures: Failure[] = [];
  const latencies: number[] = [];
  const okLatencies: number[] = [];
  const shedLatencies: number[] = [];
  let sent = 0;
  let ok = 0;
  let shed = 0;
  let failed = 0;
  let skipped = 0;
  let inFlight = 0;
  let stopping = false;
  let stoppedAt = 0;
  let finish!: (r: LoadResult) => void;
  const done = new Promise<LoadResult>((resolve) => (finish = resolve));
  const idleWaiters: Array<() => void> = [];

  const result = (): LoadResult => {
    const durationMs = (stoppedAt || performance.now()) - measuredFrom;
    const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
    return {
      sent, ok, shed, failed, skipped,
      statuses: { ...statuses }, errors: { ...errors }, failures: [...failures],
      durationMs: Math.round(durationMs),
      rps: Math.round((answered / durationMs) * 1000 * 10) / 10,
      okRps: Math.round((ok / durationMs) * 1000 * 10) / 10,
      latencyMs: quantiles(latencies),
      okLatencyMs: quantiles(okLatencies),
      shedLatencyMs: quantiles(shedLatencies),
    };
  };

  const send = (): Promise<void> => {
    const spec = typeof options.request === 'function' ? options.request() : options.request;
    const t0 = performance.now();
    const counted = t0 >= measuredFrom;
    if (counted) sent++;
    inFlight++;
    return new Promise<void>((resolve) => {
      let settled = false;
      const settle = (status: number | undefined, error: string | undefined, retryAfter: boolean, body?: string) => {
        if (settled) return;
        settled = true;
        inFlight--;
        if (!counted) {
          if (inFlight === 0) idleWaiters.splice(0).forEach((w) => w());
          return resolve();
        }
        const latency = performance.now() - t0;
        latencies.push(latency);
        const at = Math.round(t0 - started);
        if (status !== undefined) {
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (okStatuses.includes(status)) {
            ok++;
            okLatencies.push(latency);
          } else if (shedStatuses.includes(status) && retryAfter) {
            shed++;
            shedLatencies.push(latency);
          } else {
            failed++;
            if (failures.length < 200) failures.push({ at, status, body: body?.slice(0, 300) });
          }
        } else {
          errors[error!] = (errors[error!] ?? 0) + 1;
          failed++;
          if (failures.length < 200) failures.push({ at, error });
        }
        if (inFlight === 0) idleWaiters.splice(0).forEach((w) => w());
        resolve();
      };
      const body = spec.body === undefined ? undefined : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body);
      const req = http.request(options.url + spec.path, {
        method: spec.method ?? 'POST',
        agent,
        headers: { ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}), ...(spec.headers ?? {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => settle(res.statusCode!, undefined, res.headers['retry-after'] !== undefined, Buffer.concat(chunks).toString()));
        res.on('error', (err: NodeJS.ErrnoException) => settle(undefined, err.code ?? err.message, false));
        res.on('aborted', () => settle(undefined, 'response aborted', false));
      });
      req.setTimeout(options.timeoutMs ?? 60_000, () => {
        settle(undefined, 'timeout', false);
        req.destroy();
      });
      req.on('error', (err: NodeJS.ErrnoException) => settle(undefined, err.code ?? err.message, false));
      req.end(body);
    });
  };

  const limitReached = () => options.total !== undefined && sent >= options.total;
  const timers: NodeJS.Timeout[] = [];

  const stopNow = async (): Promise<LoadResult> => {
    if (!stopping) {
      stopping = true;
      timers.forEach(clearTimeout);
      timers.forEach(clearInterval);
    }
    if (inFlight > 0) await new Promise<void>((r) => idleWaiters.push(r));
    if (!stoppedAt) stoppedAt = performance.now();
    agent.destroy();
    const r = result();
    finish(r);
    return r;
  };

  if (options.ratePerSecond === undefined) {
    const loop = async () => {
      while (!stopping && !limitReached()) await send();
    };
    const loops = Array.from({ length: options.concurrency }, loop);
    void Promise.all(loops).then(() => {
      if (!stopping) void stopNow();
    });
  } else {
    const rate = options.ratePerSecond;
    let scheduled = 0;
    const tick = () => {
      if (stopping) return;
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (scheduled < due && !limitReached()) {
        scheduled++;
        if (inFlight < options.concurrency) void send();
        else if (performance.now() >= measuredFrom) skipped++;
      }
      if (limitReached()) void stopNow();
    };
    timers.push(setInterval(tick, 2));
  }
  if (options.durationMs !== undefined) timers.push(setTimeout(() => void stopNow(), (measuredFrom - started) + options.durationMs));

  return {
    snapshot: result,
    get inFlight() {
      return inFlight;
    },
    stop: stopNow,
    done,
  };
}

/** Runs a load to completion (durationMs or total must be set). */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.durationMs === undefined && options.total === undefined) throw new Error('runLoad needs durationMs or total');
  return startLoad(options).done;
}

/** Measures a closed-loop throughput (ok responses per second) over `durationMs`. */
export async function measureCapacity(options: Omit<LoadOptions, 'ratePerSecond' | 'total'> & { durationMs: number }): Promise<LoadResult> {
  return runLoad(options);
}

/**
 * Closed-loop clients inside a test: each sends, waits for its answer, hands it to `record` and
 * sends again, until `stop()` (which resolves once every client's last request is answered). For
 * load that must last until the test has read what it checks: a fixed burst can drain first.
 */
export function closedLoop<T>(clients: number, send: () => Promise<T>, record: (result: T) => void): { stop(): Promise<void> } {
  let running = true;
  const client = async (): Promise<void> => {
    while (running) record(await send());
  };
  const all = Array.from({ length: clients }, client);
  return {
    stop: async () => {
      running = false;
      await Promise.all(all);
    },
  };
}
