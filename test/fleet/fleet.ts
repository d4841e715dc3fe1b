/**
 * A fleet on one machine: N runtime processes (the compiled CLI, as instances run it) on fixed
 * loopback ports behind HAProxy, whose health checks come from the contract. The harness plays
 * the platform's parts: it registers instances with the load balancer, restarts crashed ones as
 * systemd's Restart=always would, and reads process RSS from /proc.
 */
import fs from 'node:fs';
import { Backend, Haproxy, HaproxyOptions, freePort, haproxyBinary } from '../helpers/haproxy';
import { ChildRuntime, spawnRuntime } from '../helpers/runtime';

export interface InstanceSpec {
  name: string;
  repository: string;
  /** Extra `serve` options (e.g. --drain-delay). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export class Instance {
  /** Every process this instance has run, oldest first (a restart adds one). */
  readonly generations: ChildRuntime[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    public repository: string,
    public args: string[],
    public env: NodeJS.ProcessEnv,
  ) {}

  get current(): ChildRuntime {
    const c = this.generations[this.generations.length - 1];
    if (!c) throw new Error(`instance ${this.name} was never started`);
    return c;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.current.proc.pid!;
  }

  get alive(): boolean {
    const p = this.current.proc;
    return p.exitCode === null && p.signalCode === null;
  }

  /** Every log line of every generation. */
  get logs(): string[] {
    return this.generations.flatMap((g) => g.logs);
  }

  async start(): Promise<ChildRuntime> {
    const child = await spawnRuntime(
      ['--model-repository', this.repository, '--host', '127.0.0.1', '--port', String(this.port), ...this.args],
      this.env,
    );
    this.generations.push(child);
    return child;
  }

  signal(sig: NodeJS.Signals): void {
    this.current.proc.kill(sig);
  }

  /** Resident set size of the current process in bytes (Linux /proc). */
  rss(): number {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    if (!m) throw new Error(`no VmRSS for pid ${this.pid}`);
    return Number(m[1]) * 1024;
  }
}

export interface FleetOptions {
  instances: InstanceSpec[];
  /** Options every instance gets (before its own). */
  commonArgs?: string[];
  haproxy?: Omit<HaproxyOptions, 'frontendPort' | 'backends'>;
}

export class Fleet {
  private constructor(
    readonly instances: Instance[],
    readonly haproxy: Haproxy,
  ) {}

  get url(): string {
    return this.haproxy.url;
  }

  instance(name: string): Instance {
    const i = this.instances.find((x) => x.name === name);
    if (!i) throw new Error(`no instance ${name}`);
    return i;
  }

  /** Starts every instance, then HAProxy, then registers the instances; returns without waiting for them to be healthy. */
  static async start(options: FleetOptions): Promise<Fleet> {
    const instances: Instance[] = [];
    for (const spec of options.instances) {
      instances.push(new Instance(spec.name, await freePort(), spec.repository, [...(options.commonArgs ?? []), ...(spec.args ?? [])], spec.env ?? {}));
    }
    await Promise.all(instances.map((i) => i.start()));
    const backends: Backend[] = instances.map((i) => ({ name: i.name, host: '127.0.0.1', port: i.port }));
    const haproxy = await Haproxy.start({ ...(options.haproxy ?? {}), frontendPort: await freePort(), backends });
    const fleet = new Fleet(instances, haproxy);
    for (const i of instances) await haproxy.register(i.name);
    return fleet;
  }

  /** Waits until HAProxy has the instance in rotation (UP after `rise` passing checks). Returns ms waited. */
  async waitInRotation(name: string, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    await this.haproxy.waitForStatus(name, (s) => s === 'UP', timeoutMs);
    return Date.now() - t0;
  }

  /** Starts a new process for the instance on the same port (what systemd's Restart=always does after RestartSec). */
  async restart(name: string, restartSecMs = 1000): Promise<ChildRuntime> {
    await new Promise((r) => setTimeout(r, restartSecMs));
    return this.instance(name).start();
  }

  async stop(): Promise<void> {
    await this.haproxy.stop().catch(() => undefined);
    await Promise.all(
      this.instances.map(async (i) => {
        for (const g of i.generations) {
          if (g.proc.exitCode === null && g.proc.signalCode === null) {
            g.proc.kill('SIGCONT');
            g.proc.kill('SIGKILL');
            await g.exited.catch(() => undefined);
          }
        }
      }),
    );
  }
}

/** Whether the fleet suites can run here; in CI a missing haproxy is an error, not a skip. */
export function fleetAvailable(): boolean {
  if (haproxyBinary()) return true;
  const message = 'fleet tests skipped: haproxy is not installed (run scripts/ensure-system-packages.sh as root, or apt-get install haproxy)';
  if (process.env.CI) throw new Error(message.replace('skipped', 'cannot run in CI'));
  // eslint-disable-next-line no-console
  console.warn(message);
  return false;
}

/** Reads one counter from a Prometheus text exposition, summed over the series that match every label given. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers });
  if (res.status !== 200) throw new Error(`GET ${url}/metrics: ${res.status}`);
  return res.text();
}

/** JSON log lines with their message, for assertions on what an instance said. */
export function logMessages(lines: string[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of lines) {
    try {
      const parsed = JSON.parse(l);
      if (parsed && typeof parsed === 'object') out.push(parsed as Record<string, unknown>);
    } catch {
      /* not JSON */
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
