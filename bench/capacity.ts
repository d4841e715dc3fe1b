/**
 * One instance's capacity at a latency SLO, measured as Triton's perf_analyzer does: a closed-loop
 * ramp of concurrency (1, 2, 4, …), each step held for a fixed time, until p99 breaks the SLO and
 * throughput stops growing. Per step: ok responses per second, p50/p99, the saturation signal
 * scraped from /metrics, and the runtime process's CPU. Uses the benchmark's process helpers and
 * the tests' bounded load generator; loopback only.
 */
import os from 'node:os';
import { SATURATION_METRIC } from '../runtime/contract';
import type { InstanceProfile, RampPoint } from '../infra/scaling/instance-profile';
import { metricValue, scrape } from '../test/fleet/fleet';
import { LoadRequest, runLoad } from '../test/helpers/load';
import { CpuMeter, DIST, ForeignCpu, freePort, round, spawnServer } from './lib/common';
import path from 'node:path';

export interface RampOptions {
  /** http://host:port of a ready runtime. */
  url: string;
  /** The runtime's process id (its CPU is read from /proc). */
  pid: number;
  request: LoadRequest | (() => LoadRequest);
  sloP99Ms: number;
  workers: number;
  queueBound: number;
  startupSeconds: number;
  stepMs?: number;
  maxConcurrency?: number;
  /** Called after each step (progress output). */
  onStep?: (p: RampPoint & { meetsSlo: boolean; shed: number; foreignCpuPercent: number }) => void;
  onOverload?: (o: { offeredRps: number; okRps: number; shedRps: number }) => void;
}

/** Shed responses above this share of a step mean the instance is past what the SLO allows. */
const MAX_SHED_SHARE = 0.01;

export async function measureRamp(o: RampOptions): Promise<InstanceProfile> {
  const stepMs = o.stepMs ?? 5000;
  const maxConcurrency = o.maxConcurrency ?? 512;
  const cores = os.cpus().length;
  // Warm the connections, the JIT and the sessions' arenas; not measured.
  await runLoad({ url: o.url, request: o.request, concurrency: 2, durationMs: Math.min(1000, stepMs), okStatuses: [200], shedStatuses: [503] });
  const ramp: RampPoint[] = [];
  let best = 0;
  let capacity = 0;
  let saturationAtCapacity = 0;
  let pastBefore = false;
  for (let c = 1; c <= maxConcurrency; c *= 2) {
    const cpu = new CpuMeter(o.pid);
    const foreign = new ForeignCpu(() => [o.pid, process.pid]);
    const samples: number[] = [];
    const sampler = setInterval(() => {
      scrape(o.url).then((text) => samples.push(metricValue(text, SATURATION_METRIC.saturation)), () => undefined);
    }, 250);
    cpu.begin();
    foreign.begin();
    const r = await runLoad({ url: o.url, request: o.request, concurrency: c, durationMs: stepMs, okStatuses: [200], shedStatuses: [503] });
    const used = cpu.end();
    const foreignCpuPercent = foreign.end();
    clearInterval(sampler);
    const answered = r.ok + r.shed + r.failed;
    if (r.failed > 0) throw new Error(`plan: ${r.failed} of ${answered} requests failed at concurrency ${c} (${JSON.stringify(r.failures.slice(0, 3))}); fix the model or request before measuring`);
    const point: RampPoint = {
      concurrency: c,
      rps: r.okRps,
      p50Ms: r.latencyMs.p50,
      p99Ms: r.latencyMs.p99,
      saturation: round(samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : 0, 3),
      cpuPercent: round(used.otherPercent / cores, 1),
    };
    const meetsSlo = point.p99Ms <= o.sloP99Ms && r.shed <= MAX_SHED_SHARE * answered;
    ramp.push(point);
    o.onStep?.({ ...point, meetsSlo, shed: r.shed, foreignCpuPercent });
    if (meetsSlo && point.rps > capacity) {
      capacity = point.rps;
      saturationAtCapacity = point.saturation;
    }
    const growing = point.rps > best * 1.05;
    best = Math.max(best, point.rps);
    // Past the SLO and no longer gaining throughput, twice in a row (one noisy step does not end the ramp): the peak is known.
    const past = !meetsSlo && (!growing || point.p99Ms > 4 * o.sloP99Ms);
    if (past && pastBefore) break;
    pastBefore = past;
  }
  // Open-loop steps at 2× and 4× the closed-loop peak: the goodput an overloaded instance keeps
  // while it sheds (dynamic batching may serve more than any closed loop reached; shedding costs CPU).
  const overloadSteps: Array<{ offeredRps: number; okRps: number; shedRps: number }> = [];
  for (const factor of [2, 4]) {
    const r = await runLoad({ url: o.url, request: o.request, ratePerSecond: Math.max(2, Math.round(factor * best)), concurrency: 512, durationMs: Math.max(stepMs, 3000), timeoutMs: 30_000, okStatuses: [200], shedStatuses: [503] });
    const seconds = r.durationMs / 1000;
    const step = { offeredRps: round(r.sent / seconds, 1), okRps: round(r.ok / seconds, 1), shedRps: round(r.shed / seconds, 1) };
    overloadSteps.push(step);
    o.onOverload?.(step);
  }
  best = Math.max(best, ...overloadSteps.map((s) => s.okRps));
  const overload = overloadSteps;
  if (capacity === 0) {
    throw new Error(`plan: even one request at a time has p99 ${ramp[0].p99Ms} ms, above the SLO of ${o.sloP99Ms} ms; raise --slo-p99-ms or use a larger instance`);
  }
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores,
    workers: o.workers,
    sloP99Ms: o.sloP99Ms,
    capacityRps: capacity,
    peakRps: best,
    queueBound: o.queueBound,
    saturationAtCapacity,
    startupSeconds: round(o.startupSeconds, 2),
    overload,
    ramp,
  };
}

const BYTES_PER_ELEMENT: Record<string, number> = { BOOL: 1, INT8: 1, UINT8: 1, INT16: 2, UINT16: 2, FP16: 2, INT32: 4, UINT32: 4, FP32: 4, INT64: 8, UINT64: 8, FP64: 8 };

interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/**
 * One request of batch 1 built from the model's metadata: the shapes given (the model's warmup
 * shapes), else dynamic dimensions set to 1; zeros as
 * binary tensor data (strings as JSON). What the request carries does not change the work an
 * image or feature model does; its size and shape do.
 */
export async function requestFromMetadata(url: string, model: string, shapes: Record<string, number[]> = {}): Promise<LoadRequest> {
  const res = await fetch(`${url}/v2/models/${encodeURIComponent(model)}`);
  if (res.status !== 200) throw new Error(`plan: GET /v2/models/${model} answered ${res.status}: ${await res.text()}`);
  const meta = (await res.json()) as { inputs: TensorMetadata[] };
  const binary: Buffer[] = [];
  const inputs = meta.inputs.map((t) => {
    // The model's own warmup shape when it has one (an image model's real size), else dynamic dimensions at 1.
    const shape = shapes[t.name] ?? t.shape.map((d) => (d < 0 ? 1 : d));
    const count = shape.reduce((a, b) => a * b, 1);
    if (t.datatype === 'BYTES') return { name: t.name, datatype: t.datatype, shape, data: new Array(count).fill('') };
    const size = BYTES_PER_ELEMENT[t.datatype];
    if (!size) throw new Error(`plan: input ${t.name} of ${model} has datatype ${t.datatype}, which plan cannot synthesize`);
    binary.push(Buffer.alloc(count * size));
    return { name: t.name, datatype: t.datatype, shape, parameters: { binary_data_size: count * size } };
  });
  const header = Buffer.from(JSON.stringify({ inputs }));
  return {
    method: 'POST',
    path: `/v2/models/${encodeURIComponent(model)}/infer`,
    body: Buffer.concat([header, ...binary]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}

export interface MeasuredRuntime {
  url: string;
  pid: number;
  /** Spawn to ready: process start, model load and warmup. */
  startupSeconds: number;
  stop(): Promise<void>;
}

/** Starts the compiled runtime (as an instance runs it) on a free loopback port and times it to ready. */
export async function startMeasuredRuntime(repository: string, serveArgs: string[]): Promise<MeasuredRuntime> {
  const port = await freePort();
  const t0 = performance.now();
  const child = await spawnServer(path.join(DIST, 'cli', 'index.js'), ['serve', '--model-repository', repository, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn', ...serveArgs], port, 300_000);
  return { url: child.url, pid: child.proc.pid!, startupSeconds: (performance.now() - t0) / 1000, stop: child.stop };
}
