/** Steady bounded loopback load on an adder model, recording which version answered each request. */
import { metricValue as sumSeries, scrape } from '../fleet/fleet';

export interface Outcome {
  sentAt: number;
  receivedAt: number;
  status: number;
  version?: string;
  y?: number;
  /** The instance that answered, when behind the test HAProxy (x-served-by). */
  server?: string;
  error?: string;
}

export class SteadyLoad {
  readonly outcomes: Outcome[] = [];
  readonly readiness: number[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    private readonly model: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  start(clients = 3, maxRequests = 20_000): this {
    const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [0] }] });
    for (let c = 0; c < clients; c++) {
      this.loops.push(
        (async () => {
          while (!this.stopped && this.outcomes.length < maxRequests) {
            const sentAt = performance.now();
            try {
              const res = await fetch(`${this.url}/v2/models/${this.model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json', ...this.headers }, body });
              const json = (await res.json()) as { model_version?: string; outputs?: Array<{ data: number[] }>; error?: string };
              this.outcomes.push({ sentAt, receivedAt: performance.now(), status: res.status, version: json.model_version, y: json.outputs?.[0]?.data[0], error: json.error, server: res.headers.get('x-served-by') ?? undefined });
            } catch (err) {
              this.outcomes.push({ sentAt, receivedAt: performance.now(), status: 0, error: (err as Error).message });
            }
            await new Promise((r) => setTimeout(r, 2));
          }
        })(),
      );
    }
    this.loops.push(
      (async () => {
        while (!this.stopped) {
          this.readiness.push(await fetch(`${this.url}/v2/health/ready`).then((r) => r.status, () => 0));
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
    );
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  failed(): Outcome[] {
    return this.outcomes.filter((o) => o.status !== 200);
  }

  /** Waits until a response comes from `version`. */
  async untilVersion(version: string, timeoutMs: number): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < timeoutMs) {
      if (this.outcomes.some((o) => o.version === version && o.receivedAt >= started)) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no response from version ${version} within ${timeoutMs} ms`);
  }
}

/**
 * Requests sent after the first response from `newer` arrived that were still answered by an
 * older version (per instance when `server` is known: each instance switches on its own poll).
 */
export function olderAfterSwitch(outcomes: Outcome[], newer: string): Outcome[] {
  const bad: Outcome[] = [];
  const servers = new Set(outcomes.map((o) => o.server));
  for (const server of servers) {
    const mine = outcomes.filter((o) => o.server === server);
    const first = mine.filter((o) => o.version === newer).reduce((t, o) => Math.min(t, o.receivedAt), Number.POSITIVE_INFINITY);
    bad.push(...mine.filter((o) => o.sentAt > first && o.status === 200 && Number(o.version) < Number(newer)));
  }
  return bad;
}

export { sleep } from '../fleet/fleet';

/** One series' value on an instance's /metrics (undefined when absent). */
export async function metricValue(url: string, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await scrape(url);
  const present = text.split('\n').some((l) => l.startsWith(name + '{') && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return present ? sumSeries(text, name, labels) : undefined;
}
