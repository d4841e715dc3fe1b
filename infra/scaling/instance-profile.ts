/**
 * One instance as `onnx-fleet plan` measured it, and what the simulator derives from it: for an
 * offered rate, the throughput, the p99 latency, the saturation signal and the CPU an instance shows.
 * Below its peak the measured ramp is interpolated; above it the instance is a server of rate
 * `peakRps` in front of a bounded queue (the model's max_queue_size), which is how the runtime
 * behaves: it keeps serving at its peak and sheds what does not fit the queue with 503.
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

export interface InstanceProfile {
  /** Where it was measured (os.cpus()[0].model) and how many cores. */
  cpuModel: string;
  cores: number;
  workers: number;
  sloP99Ms: number;
  /** Highest throughput whose p99 met the SLO. */
  capacityRps: number;
  /** Highest throughput measured at all (the instance's service rate when overloaded). */
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
  overload?: Array<{ offeredRps: number; okRps: number; shedRps: number }>;
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

function interpolate(points: RampPoint[], rps: number, pick: (p: RampPoint) => number): number {
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

export class InstanceModel {
  private readonly points: RampPoint[];

  constructor(readonly profile: InstanceProfile) {
    if (!(profile.peakRps > 0)) throw new Error(`instance profile: peakRps must be positive, got ${profile.peakRps}`);
    this.points = risingRamp(profile);
  }

  /** The service rate while `rps` are offered: the peak, and beyond it the measured open-loop points, interpolated. */
  goodput(rps: number): number {
    const peak = this.profile.peakRps;
    const points = [...(this.profile.overload ?? [])].filter((p) => p.offeredRps > 0).sort((a, b) => a.offeredRps - b.offeredRps);
    if (points.length === 0) return peak;
    // Below the first open-loop point, from the closed loop's best (served everything it was offered) towards it.
    const line: Array<[number, number]> = [[Math.min(peak, points[0].offeredRps), Math.min(peak, points[0].offeredRps)], ...points.map((p) => [p.offeredRps, p.okRps] as [number, number])];
    // A service rate, not what is served: with a backlog, an instance offered less than its peak still serves at the peak.
    if (rps <= line[0][0]) return peak;
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
    if (backlog <= 0 && rps < peak) {
      return {
        servedRps: rps,
        p99Ms: interpolate(this.points, rps, (p) => p.p99Ms),
        saturation: interpolate(this.points, rps, (p) => p.saturation),
        cpuPercent: interpolate(this.points, rps, (p) => p.cpuPercent),
      };
    }
    // Overloaded: serving at the goodput this rate leaves; what is queued waits backlog / peak on top of the peak's latency.
    return {
      servedRps: this.goodput(rps),
      p99Ms: atPeak((p) => p.p99Ms) + (backlog / peak) * 1000,
      saturation: atPeak((p) => p.saturation) + backlog / this.profile.workers,
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
