/**
 * One instance as `onnx-fleet plan` measured it, and what the simulator derives from it: for an
 * offered rate, the throughput, the p99 latency, the saturation signal and the CPU an instance shows.
 * Below its peak the measured ramp is interpolated; above it the instance is a server in front of a
 * bounded queue (the model's max_queue_size), which is how the runtime behaves: it keeps serving
 * and sheds what does not fit the queue with 503. Its service rate there is what plan measured in
 * open loop at that offered rate (the goodput an overloaded instance keeps falls as the rate it
 * refuses grows: refusing is cheap, not free).
 */

/** One step of the closed-loop ramp. */
export interface RampPoint {
  concurrency: number;
  /** ok responses per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Mean of onnx_fleet_saturation scraped during the step. */
  saturation: number;
  /** CPU the instance's process used, percent of the machine's cores (what CloudWatch's CPUUtilization shows). */
  cpuPercent: number;
}

/** One open-loop step of plan's request-rate ramp. */
export interface RateStep {
  /** Requests sent per second (what the generator offered). */
  offeredRps: number;
  okRps: number;
  shedRps: number;
  p50Ms: number;
  p99Ms: number;
  /** Mean of onnx_fleet_saturation scraped during the step. */
  saturation: number;
  /** p99 within the SLO, at most 1 % shed, and the whole rate offered. */
  meetsSlo: boolean;
}

/** Goodput at an offered rate beyond capacity, measured in open loop. */
export interface OverloadPoint {
  offeredRps: number;
  okRps: number;
  shedRps: number;
}

export interface InstanceProfile {
  /** Where it was measured (os.cpus()[0].model) and how many cores. */
  cpuModel: string;
  cores: number;
  workers: number;
  sloP99Ms: number;
  /**
   * Highest open-loop rate the instance sustained with p99 within the SLO and at most 1 % shed (the
   * closed loop's figure when no open-loop rate met it). What the targets and the group's size
   * are computed from.
   */
  capacityRps: number;
  /** Highest closed-loop throughput that met the SLO (lower: closed-loop clients leave the queue empty between requests). */
  closedLoopCapacityRps?: number;
  /** Highest throughput measured at all. */
  peakRps: number;
  /** Requests an instance holds queued beyond those executing before it sheds (sum of the served models' max_queue_size). */
  queueBound: number;
  /** Saturation at capacity: the signal's value when the instance is as busy as the SLO allows. */
  saturationAtCapacity: number;
  /** Seconds from starting the runtime to ready (model load + warmup) on the measuring machine. */
  startupSeconds: number;
  /**
   * Open-loop steps beyond the closed-loop peak: what the instance still serves while it sheds.
   * Shedding is not free (the request still crosses the network stack and the HTTP parser), so
   * goodput changes with the offered rate; the simulator interpolates these points (and holds the
   * last beyond them). Absent: goodput stays at the peak.
   */
  overload?: OverloadPoint[];
  /** The open-loop request-rate ramp that found `capacityRps`. */
  rateRamp?: RateStep[];
  /** The closed-loop concurrency ramp: latency, saturation and CPU by load. */
  ramp: RampPoint[];
}

/** What the scaling policies aim at, derived from a measured profile. */
export interface DerivedTargets {
  /** The per-instance rate the group is sized for: `utilization` × capacity. */
  targetRps: number;
  /** ALB requests per target per minute at that rate. */
  requestsPerTarget: number;
  /** The saturation signal's value at that rate. */
  saturationTarget: number;
  /** The instance's CPU at that rate. */
  cpuPercent: number;
}

export interface InstanceState {
  /** Requests per second that can be served given the backlog. */
  servedRps: number;
  p99Ms: number;
  saturation: number;
  cpuPercent: number;
}

function interpolate<P extends { rps: number }>(points: P[], rps: number, pick: (p: P) => number): number {
  for (let i = 1; i < points.length; i++) {
    if (rps <= points[i].rps) {
      const a = points[i - 1];
      const b = points[i];
      const f = b.rps === a.rps ? 1 : (rps - a.rps) / (b.rps - a.rps);
      return pick(a) + f * (pick(b) - pick(a));
    }
  }
  return pick(points[points.length - 1]);
}

/**
 * The ramp's points in increasing throughput up to the peak (the part a rate maps onto), after an
 * idle point: no load, no saturation, no CPU, and the lowest latency measured.
 */
export function risingRamp(profile: InstanceProfile): RampPoint[] {
  const sorted = [...profile.ramp].sort((a, b) => a.concurrency - b.concurrency);
  if (sorted.length === 0) throw new Error('instance profile: the ramp has no points; run onnx-fleet plan');
  const out: RampPoint[] = [{ concurrency: 0, rps: 0, p50Ms: sorted[0].p50Ms, p99Ms: sorted[0].p99Ms, saturation: 0, cpuPercent: 0 }];
  for (const p of sorted) if (p.rps > out[out.length - 1].rps) out.push(p);
  return out;
}

/**
 * A quantity by rate below capacity from the open-loop rate ramp's steps within the SLO, after an
 * idle point, when plan measured them (a load balancer's traffic is an open loop; closed-loop
 * clients queue behind each other and show more latency and more saturation at the same rate);
 * undefined for a closed-loop-only profile.
 */
function openLoopCurve(profile: InstanceProfile, pick: (s: RateStep) => number, idle: (steps: RateStep[]) => number): Array<{ rps: number; value: number }> | undefined {
  const open = (profile.rateRamp ?? []).filter((s) => s.meetsSlo).sort((a, b) => a.okRps - b.okRps);
  if (open.length === 0) return undefined;
  const out = [{ rps: 0, value: idle(open) }];
  for (const s of open) if (s.okRps > out[out.length - 1].rps) out.push({ rps: s.okRps, value: pick(s) });
  return out;
}

/** Latency by rate below capacity: open loop (at idle the lowest latency measured), else the closed-loop ramp. */
function latencyPoints(profile: InstanceProfile, ramp: RampPoint[]): Array<{ rps: number; p99Ms: number }> {
  return openLoopCurve(profile, (s) => s.p99Ms, (open) => Math.min(...open.map((s) => s.p99Ms)))?.map((p) => ({ rps: p.rps, p99Ms: p.value })) ?? ramp;
}

/**
 * The saturation signal by rate below capacity, as an instance behind a load balancer reports it:
 * open loop (0 at idle), else the closed-loop ramp. The two differ either way: at 70 % of
 * capacity iris read 3.14 in open loop where its closed-loop ramp gave 0.01, text-orientation 0.63
 * where the closed loop gave 1.68 (bench/results/plan/).
 */
function saturationPoints(profile: InstanceProfile, ramp: RampPoint[]): Array<{ rps: number; saturation: number }> {
  return openLoopCurve(profile, (s) => s.saturation, () => 0)?.map((p) => ({ rps: p.rps, saturation: p.value })) ?? ramp;
}

export class InstanceModel {
  private readonly points: RampPoint[];
  private readonly latency: Array<{ rps: number; p99Ms: number }>;
  private readonly saturation: Array<{ rps: number; saturation: number }>;
  /** Offered rate → goodput beyond the knee: (knee, knee), then the measured open-loop overload points. */
  private readonly line: Array<[number, number]>;
  /** Up to this offered rate the instance serves everything (and sheds nothing) when it has no backlog. */
  readonly knee: number;
  /** Its service rate with a backlog below the knee: the best it was measured to serve. */
  private readonly best: number;

  constructor(readonly profile: InstanceProfile) {
    if (!(profile.peakRps > 0)) throw new Error(`instance profile: peakRps must be positive, got ${profile.peakRps}`);
    this.points = risingRamp(profile);
    this.latency = latencyPoints(profile, this.points);
    this.saturation = saturationPoints(profile, this.points);
    const overload = [...(profile.overload ?? [])].filter((p) => p.offeredRps > 0).sort((a, b) => a.offeredRps - b.offeredRps);
    if (profile.rateRamp?.length) {
      // Measured in open loop: the instance serves everything up to the capacity the rate ramp found.
      this.knee = profile.capacityRps;
      this.line = [[this.knee, this.knee], ...overload.filter((p) => p.offeredRps > this.knee).map((p) => [p.offeredRps, p.okRps] as [number, number])];
      this.best = Math.max(...this.line.map((p) => p[1]));
    } else {
      // A profile with the closed loop only: it serves up to its peak; beyond, the overload points (if any).
      const start = Math.min(profile.peakRps, overload[0]?.offeredRps ?? profile.peakRps);
      this.knee = profile.peakRps;
      this.line = [[start, start], ...overload.map((p) => [p.offeredRps, p.okRps] as [number, number])];
      this.best = profile.peakRps;
    }
  }

  /**
   * The service rate while `rps` are offered: beyond the knee the measured open-loop goodput,
   * interpolated (the last point's beyond it). Interpolated as served req/s, not as a shed fraction:
   * a saturated instance serves a slowly changing goodput, and what it sheds is the rest of the offer.
   */
  goodput(rps: number): number {
    const line = this.line;
    // A service rate, not what is served: with a backlog, an instance offered less than its knee still serves at its best.
    if (rps <= line[0][0]) return this.best;
    for (let i = 1; i < line.length; i++) {
      if (rps <= line[i][0]) {
        const f = (rps - line[i - 1][0]) / (line[i][0] - line[i - 1][0] || 1);
        return line[i - 1][1] + f * (line[i][1] - line[i - 1][1]);
      }
    }
    return line[line.length - 1][1];
  }

  /** An instance offered `rps` with `backlog` requests already queued. */
  state(rps: number, backlog: number): InstanceState {
    const peak = this.profile.peakRps;
    const atPeak = (f: (p: RampPoint) => number) => interpolate(this.points, peak, f);
    if (backlog <= 0 && rps < this.knee) {
      return {
        servedRps: rps,
        p99Ms: interpolate(this.latency, rps, (p) => p.p99Ms),
        saturation: interpolate(this.saturation, rps, (p) => p.saturation),
        cpuPercent: interpolate(this.points, rps, (p) => p.cpuPercent),
      };
    }
    // Overloaded: serving at the goodput this rate leaves; what is queued waits backlog / goodput on top of the latency at the knee.
    const servedRps = this.goodput(rps);
    return {
      servedRps,
      p99Ms: interpolate(this.latency, this.knee, (p) => p.p99Ms) + (backlog / Math.max(servedRps, 1e-9)) * 1000,
      // The signal at the knee plus the queue: what the open loop shows when it sheds (saturation ≈ queue bound / workers).
      saturation: interpolate(this.saturation, this.knee, (p) => p.saturation) + backlog / this.profile.workers,
      cpuPercent: atPeak((p) => p.cpuPercent),
    };
  }
}

/** Targets at `utilization` (0..1) of measured capacity: the headroom covers load growth while a scale-out boots. */
export function deriveTargets(profile: InstanceProfile, utilization: number): DerivedTargets {
  if (!(utilization > 0 && utilization <= 1)) throw new Error(`target utilization must be in (0, 1], got ${utilization}`);
  const targetRps = profile.capacityRps * utilization;
  const state = new InstanceModel(profile).state(targetRps, 0);
  return {
    targetRps,
    requestsPerTarget: Math.max(1, Math.round(targetRps * 60)),
    // Two significant decimals: a CloudWatch target that reads as a number of requests per worker.
    saturationTarget: Math.max(0.01, Math.round(state.saturation * 100) / 100),
    cpuPercent: state.cpuPercent,
  };
}
