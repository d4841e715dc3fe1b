/** The shape of bench/results/latest.json, shared by the orchestrator, the chart and the table. */
import type { InProcessResult } from './in-process';

export const SCENARIOS = ['bare-fastify', 'naive-handler', 'fleet-json', 'fleet-binary'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const SCENARIO_LABELS: Record<Scenario, string> = {
  'bare-fastify': 'bare Fastify (constant)',
  'naive-handler': 'naive handler',
  'fleet-json': 'onnx-fleet, JSON tensors',
  'fleet-binary': 'onnx-fleet, binary tensors',
};

export interface HealthProbe {
  probes: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
  /** CPU the prober itself used while probing, % of one core. */
  cpuPercent?: number;
  /** All the CPU the prober process used, ms (taken out of the cell's foreignCpuPercent). */
  cpuMs?: number;
}

export interface Cell {
  scenario: Scenario;
  concurrency: number;
  /** Successful (2xx) responses per second: the throughput reported everywhere. */
  okPerSecond: number;
  /** Latency percentiles of the successful responses, ms. */
  p50: number;
  p99: number;
  ok: number;
  /** Responses with a status other than 2xx, by status (503 = shed by the queue). */
  non2xx: Record<string, number>;
  /** p99 latency of the non-2xx responses (how fast shedding answers), ms. */
  non2xxP99?: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  /** /v2/health/ready probed every 20 ms from another process during the cell. */
  health?: HealthProbe;
  /** CPU used by other processes on the machine during the cell, % of one core (others share this box). */
  foreignCpuPercent: number;
  /** CPU of the server under test (all its threads) and of the load generator, % of one core. */
  serverCpuPercent: number;
  loadGeneratorCpuPercent: number;
  /** Server CPU time (all its threads) per successful request, ms. */
  cpuMsPerInference?: number;
  /** Server resident memory at the end of the cell, MiB. */
  rssMiB: number;
  ratios?: { vsInProcessPeak: number; vsBareFastify: number; vsNaive: number };
}

export interface OverloadCell extends Cell {
  /** Offered rate (requests/s): 3× the best sustained onnx-fleet binary throughput. */
  offeredPerSecond: number;
  /** Requests the open-loop generator sent per second of the measured window. */
  sentPerSecond: number;
  /** Requests the schedule wanted while all 512 sockets were busy (not sent, not queued). */
  skipped?: number;
  /** Answers that were neither 200 nor a 503 with Retry-After, plus errors. */
  failed?: number;
  sustainablePerSecond: number;
  /** p99 of the same scenario at concurrency 1 (the unloaded p99). */
  unloadedP99: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** Set when every request carried Triton's `timeout` parameter (µs): clients with a deadline. */
  requestTimeoutUs?: number;
  /** The server's main thread (its event loop) alone, % of one core. */
  serverMainThreadCpuPercent?: number;
  /** The event loop's CPU (ms) per request it answered with 200 or 503 in the window. */
  mainThreadCpuMsPerAnswer?: number;
  /** Requests the server shed in the measured window, by onnx_fleet_requests_shed_total's cause. */
  shedCauses?: Record<string, number>;
}

/** The ideal shedder (bench/peers/ideal-shedder.ts) offered the overload cell's open loop: the floor for a 503. */
export interface ShedderFloor {
  offeredPerSecond: number;
  sentPerSecond: number;
  shed: number;
  /** Answers that were not a 503 with Retry-After, plus errors. */
  failed: number;
  p50: number;
  p99: number;
  serverCpuPercent: number;
  loadGeneratorCpuPercent: number;
  foreignCpuPercent: number;
  /** Server CPU (ms) per 503. */
  cpuMsPerShed: number;
}

export interface ModelResult {
  name: string;
  label: string;
  inProcess: InProcessResult;
  cells: Cell[];
  overload?: OverloadCell;
  /** The same offered load, every request with a deadline (the unloaded p99) in its `timeout` parameter. */
  overloadWithDeadline?: OverloadCell;
  /** The same open loop against the ideal shedder, in the same run. */
  shedderFloor?: ShedderFloor;
  /** How onnx-fleet sized its batches for this model in this run (the model metadata's parameters). */
  fleetBatching?: FleetBatching;
}

export interface FleetBatching {
  preferredBatchSize: number;
  source: string;
  /** `size:inferences/s,…` as calibration measured them, when calibrated. */
  calibration?: string;
  /** `size:µs of CPU per inference,…`, when calibrated. */
  calibrationCpuUs?: string;
}

export interface BenchResults {
  generatedAt: string;
  mode: 'full' | 'quick';
  secondsPerCell: number;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    onnxruntimeNode: string;
    fastify: string;
    autocannon: string;
    /** Sampled before and after the run: other work on the machine skews every number. */
    before: { loadavg1: number; busyPercent: number };
    after: { loadavg1: number; busyPercent: number };
  };
  onnxFleet: {
    args: string[];
    configs: Record<string, unknown>;
  };
  models: ModelResult[];
  wallSeconds: number;
}
