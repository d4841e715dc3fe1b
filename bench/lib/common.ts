/**
 * Shared helpers for the benchmark: free ports, child servers, readiness, percentiles, RSS.
 * Everything under test runs in a child process; the orchestrator only generates load.
 */
import { SERVE_NODE_FLAGS } from '../../runtime/node-flags';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const DIST = path.join(ROOT, 'dist');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Child {
  proc: ChildProcess;
  url: string;
  /** Last lines of output, for error messages. */
  tail: string[];
  stop(): Promise<void>;
}

/** Spawns `node <script> ...args` and waits until GET <url>/v2/health/ready answers 200. */
/** `onnx-fleet serve <args>` as its launchers run it (with SERVE_NODE_FLAGS, runtime/node-flags.ts). */
export function spawnFleet(args: string[], port: number, timeoutMs?: number): Promise<Child> {
  return spawnServer(path.join(DIST, 'cli', 'index.js'), ['serve', ...args], port, timeoutMs, SERVE_NODE_FLAGS);
}

/** `nodeFlags`: Node options before the script (SERVE_NODE_FLAGS for `onnx-fleet serve`, as its launchers pass them). */
export async function spawnServer(script: string, args: string[], port: number, timeoutMs = 60_000, nodeFlags: readonly string[] = []): Promise<Child> {
  // BENCH_CPU_PROF_DIR: every server (all its threads) writes a V8 CPU profile there on exit
  // (node --cpu-prof); bench/profile-summary.ts says where the time went. Not for measured runs.
  const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', path.join(process.env.BENCH_CPU_PROF_DIR, `${path.basename(script, '.js')}-${port}`)] : [];
  const proc = spawn(process.execPath, [...prof, ...nodeFlags, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  const tail: string[] = [];
  const keep = (c: Buffer) => {
    for (const line of c.toString().split('\n')) if (line.trim()) tail.push(line);
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((r) => proc.on('exit', () => ((exited = true), r())));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${path.basename(script)} exited before it was ready:\n${tail.join('\n')}`);
    try {
      const res = await fetch(`${url}/v2/health/ready`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${path.basename(script)} not ready within ${timeoutMs} ms:\n${tail.join('\n')}`);
    }
    await sleep(100);
  }
  const stop = async () => {
    if (exited) return;
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(killer);
  };
  return { proc, url, tail, stop };
}

/** Runs `node <script> ...args` to completion and parses the last stdout line as JSON. */
export function runJson<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${path.basename(script)} exited with ${code}:\n${err}${out}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${path.basename(script)} printed no JSON result:\n${err}${out}`));
      }
    });
  });
}

/** Percentile (nearest rank) of an unsorted sample, in the sample's unit. */
export function percentile(sample: number[], p: number): number {
  if (sample.length === 0) return NaN;
  const sorted = Float64Array.from(sample).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Resident set size of a process in MiB (Linux /proc), or NaN elsewhere. */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Load average and busy CPU share over a short window, to note a machine that was not idle. */
export async function cpuBusy(windowMs = 1000): Promise<{ loadavg1: number; busyPercent: number }> {
  const read = () => {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = line[3] + (line[4] ?? 0);
    const total = line.reduce((a, b) => a + b, 0);
    return { idle, total };
  };
  try {
    const a = read();
    await sleep(windowMs);
    const b = read();
    const busy = 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
    return { loadavg1: Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]), busyPercent: Math.round(busy * 1000) / 10 };
  } catch {
    return { loadavg1: NaN, busyPercent: NaN };
  }
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

/** CPU time (jiffies) of the given processes, all threads included, from /proc/<pid>/stat. */
export function processJiffies(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) sum += statJiffies(`/proc/${pid}/stat`);
  return sum;
}

/** CPU time (jiffies) of a process's main thread alone (the event loop), from /proc/<pid>/task/<pid>/stat. */
export function mainThreadJiffies(pid: number): number {
  return statJiffies(`/proc/${pid}/task/${pid}/stat`);
}

function statJiffies(file: string): number {
  try {
    const stat = fs.readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0; // exited
  }
}

function machineJiffies(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

/**
 * Measures how much of the machine something other than the benchmark used while it ran:
 * machine busy time minus the CPU time of the benchmark's own processes, in % of one core
 * (on 2 cores, 200% = the whole machine).
 */
export class ForeignCpu {
  private start?: { m: { busy: number; total: number }; ours: number };
  private startedAt = 0;
  /** Wall time between begin() and the last end(), ms. */
  windowMs = NaN;
  constructor(private readonly pids: () => number[]) {}
  begin(): void {
    this.startedAt = performance.now();
    try {
      this.start = { m: machineJiffies(), ours: processJiffies(this.pids()) };
    } catch {
      this.start = undefined;
    }
  }
  end(): number {
    this.windowMs = performance.now() - this.startedAt;
    if (!this.start) return NaN;
    try {
      const m = machineJiffies();
      const ours = processJiffies(this.pids());
      const total = m.total - this.start.m.total;
      const foreign = m.busy - this.start.m.busy - (ours - this.start.ours);
      return total > 0 ? round(Math.max(0, (foreign / total) * 100 * os.cpus().length), 1) : NaN;
    } catch {
      return NaN;
    }
  }
}

/**
 * Other work in a cell without the bench's own readiness prober, a process of its own that ran
 * within the window and had exited by its end (so ForeignCpu could not count it as ours).
 */
export function withoutProber(foreignCpuPercent: number, prober: { cpuMs?: number } | undefined, windowMs: number): number {
  if (!prober?.cpuMs || !(windowMs > 0)) return foreignCpuPercent;
  return round(Math.max(0, foreignCpuPercent - (prober.cpuMs / windowMs) * 100), 1);
}

/** Waits (up to maxMs) until the machine is idle enough to measure, and reports what it saw. */
export async function waitForIdle(maxBusyPercent: number, maxMs: number, log: (msg: string) => void): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = (await cpuBusy(1000)).busyPercent;
  if (!(busy > maxBusyPercent)) return busy;
  log(`machine busy (${busy}% CPU from other work); waiting up to ${Math.round(maxMs / 1000)}s for it to settle`);
  while (Date.now() < deadline && busy > maxBusyPercent) busy = (await cpuBusy(2000)).busyPercent;
  if (busy > maxBusyPercent) log(`still busy (${busy}% CPU); measuring anyway — this cell's numbers are pessimistic`);
  return busy;
}

/** CPU used by this process and by another one over a window, each in % of one core. */
export class CpuMeter {
  private startWall = 0n;
  private startSelf?: NodeJS.CpuUsage;
  private startOther = 0;
  private startOtherMain = 0;
  private readonly hz = 100; // USER_HZ on Linux
  constructor(private readonly otherPid: number | undefined) {}
  begin(): void {
    this.startWall = process.hrtime.bigint();
    this.startSelf = process.cpuUsage();
    this.startOther = this.otherPid ? processJiffies([this.otherPid]) : 0;
    this.startOtherMain = this.otherPid ? mainThreadJiffies(this.otherPid) : 0;
  }
  /** selfPercent: this process; otherPercent: the other one, all threads; otherMainThreadPercent: its event loop's thread. */
  end(): { selfPercent: number; otherPercent: number; otherMainThreadPercent: number } {
    const wallUs = Number(process.hrtime.bigint() - this.startWall) / 1000;
    const self = process.cpuUsage(this.startSelf);
    const otherUs = this.otherPid ? ((processJiffies([this.otherPid]) - this.startOther) * 1e6) / this.hz : NaN;
    const otherMainUs = this.otherPid ? ((mainThreadJiffies(this.otherPid) - this.startOtherMain) * 1e6) / this.hz : NaN;
    return { selfPercent: round(((self.user + self.system) / wallUs) * 100, 1), otherPercent: round((otherUs / wallUs) * 100, 1), otherMainThreadPercent: round((otherMainUs / wallUs) * 100, 1) };
  }
}
