/**
 * Replays a traffic trace through a stack's scaling configuration, one second at a time. Pure and
 * deterministic: the same inputs give the same report.
 *
 * The group (EC2 Auto Scaling): a desired capacity between min and max, changed by target
 * tracking (target-tracking.ts). A launch takes `coldStartSeconds` (instance boot, bootstrap
 * download, model load and warmup: the launch hook keeps it out of the load balancer until then),
 * or `warmStartSeconds` when it comes out of the warm pool (a stopped instance that already
 * bootstrapped: boot + model load). Once in service it serves at once but stays in its instance
 * warmup for `instanceWarmupSeconds`, not counted by target tracking. A scale-in terminates the
 * newest instances (returned to the warm pool when there is one, reuseOnScaleIn); the pool refills
 * to its minimum by cold launches into the pool.
 *
 * The load balancer spreads the offered rate evenly over the instances in service. Each instance
 * is the InstanceModel from `plan` (throughput, p99, saturation and CPU by offered rate; above
 * its peak a bounded queue, beyond it 503). No instance in service: the load balancer answers 503.
 *
 * Simplified: instances are identical and share load exactly evenly; latency within a second is
 * the instance's p99 at that second's rate (the run's p99 is the request-weighted 99th percentile
 * of those); connection draining on scale-in is instantaneous (the runtime's drain keeps serving,
 * so no request is lost there); AWS's own jitter in launch times is not modelled.
 */
import { InstanceModel, InstanceProfile } from './instance-profile';
import { Decision, PolicyAlarms, TargetTrackingPolicy, combine } from './target-tracking';

export interface GroupSettings {
  minSize: number;
  maxSize: number;
  /** Capacity at the start of the trace (default: min). */
  initialCapacity?: number;
  policies: TargetTrackingPolicy[];
  instanceWarmupSeconds: number;
  coldStartSeconds: number;
  warmPool?: { minSize: number; warmStartSeconds: number };
}

export interface SimulationInput {
  group: GroupSettings;
  instance: InstanceProfile;
  /** Offered requests per second, one value per second. */
  trace: number[];
}

export interface Sample {
  t: number;
  offered: number;
  served: number;
  shed: number;
  inService: number;
  desired: number;
  warmPool: number;
  p99Ms: number;
}

export interface SimulationReport {
  samples: Sample[];
  offered: number;
  served: number;
  shed: number;
  shedFraction: number;
  p99Ms: number;
  /** Seconds in which the instances' p99 exceeded the SLO or requests were shed. */
  secondsOverSlo: number;
  /** Running instances (launching or in service) × hours. */
  instanceHours: number;
  /** Stopped warm-pool instances × hours (EBS cost only). */
  warmPoolHours: number;
  maxInService: number;
  scalingActivities: number;
}

interface Instance {
  /** Second at which it is in service (serving). */
  readyAt: number;
  /** Second its instance warmup ends. */
  warmAt: number;
  backlog: number;
}

/** Request-weighted percentile of per-second latencies. */
function weightedPercentile(values: Array<{ ms: number; weight: number }>, p: number): number {
  const total = values.reduce((n, v) => n + v.weight, 0);
  if (total === 0) return 0;
  const sorted = [...values].sort((a, b) => a.ms - b.ms);
  let seen = 0;
  for (const v of sorted) {
    seen += v.weight;
    if (seen >= p * total) return v.ms;
  }
  return sorted[sorted.length - 1].ms;
}

export function simulate(input: SimulationInput): SimulationReport {
  const { group, trace } = input;
  if (group.maxSize < group.minSize) throw new Error(`simulate: maxSize ${group.maxSize} < minSize ${group.minSize}`);
  const model = new InstanceModel(input.instance);
  const queueBound = input.instance.queueBound;
  const sloMs = input.instance.sloP99Ms;
  const alarms = group.policies.map((p) => new PolicyAlarms(p));
  const latest: Decision[] = alarms.map(() => ({ kind: 'hold' }));
  const accumulators = alarms.map(() => ({ sum: 0, n: 0 }));

  let desired = Math.min(group.maxSize, Math.max(group.minSize, group.initialCapacity ?? group.minSize));
  // The trace starts with a settled group: its instances are in service and warm.
  const instances: Instance[] = Array.from({ length: desired }, () => ({ readyAt: 0, warmAt: 0, backlog: 0 }));
  /** Warm pool: seconds at which each stopped instance is (or will be) available. */
  const pool: number[] = group.warmPool ? Array.from({ length: group.warmPool.minSize }, () => 0) : [];

  const samples: Sample[] = [];
  const latencies: Array<{ ms: number; weight: number }> = [];
  let offeredTotal = 0;
  let servedTotal = 0;
  let shedTotal = 0;
  let secondsOverSlo = 0;
  let runningSeconds = 0;
  let poolSeconds = 0;
  let maxInService = 0;
  let activities = 0;

  const launch = (t: number, count: number) => {
    for (let i = 0; i < count; i++) {
      const fromPool = group.warmPool ? pool.findIndex((at) => at <= t) : -1;
      const start = fromPool !== -1 ? group.warmPool!.warmStartSeconds : group.coldStartSeconds;
      if (fromPool !== -1) pool.splice(fromPool, 1);
      instances.push({ readyAt: t + start, warmAt: t + start + group.instanceWarmupSeconds, backlog: 0 });
    }
  };
  const terminate = (count: number) => {
    // Newest first: never the instances that carry the load when a launch is still pending.
    instances.sort((a, b) => a.readyAt - b.readyAt);
    const removed = instances.splice(instances.length - count, count);
    if (group.warmPool) for (const r of removed) pool.push(r.readyAt);
  };

  for (let t = 0; t < trace.length; t++) {
    const offered = Math.max(0, trace[t]);
    const serving = instances.filter((i) => i.readyAt <= t);
    let served = 0;
    let shed = 0;
    let p99 = 0;
    let saturation = 0;
    let cpu = 0;
    if (serving.length === 0) {
      shed = offered;
    } else {
      const perInstance = offered / serving.length;
      for (const inst of serving) {
        const state = model.state(perInstance, inst.backlog);
        // Fluid queue: what arrives beyond the service rate waits, up to the queue bound; the rest is shed.
        const capacity = state.servedRps;
        const arriving = perInstance + inst.backlog;
        const done = Math.min(arriving, capacity);
        let backlog = arriving - done;
        if (backlog > queueBound) {
          shed += backlog - queueBound;
          backlog = queueBound;
        }
        inst.backlog = backlog;
        served += done;
        p99 = Math.max(p99, state.p99Ms);
        saturation += state.saturation;
        cpu += state.cpuPercent;
      }
      saturation /= serving.length;
      cpu /= serving.length;
    }
    offeredTotal += offered;
    servedTotal += served;
    shedTotal += shed;
    if (served > 0) latencies.push({ ms: p99, weight: served });
    if (shed > 0.5 || p99 > sloMs) secondsOverSlo++;
    runningSeconds += instances.length;
    poolSeconds += pool.length;
    maxInService = Math.max(maxInService, serving.length);

    // Metrics: each policy's datapoint is the mean over its period; ALB counts every request it received per target per minute.
    const perTargetRps = serving.length > 0 ? offered / serving.length : offered;
    const value: Record<string, number> = { cpu, saturation, requestCount: perTargetRps * 60 };
    const counted = instances.filter((i) => i.warmAt <= t).length;
    const warming = instances.length - counted;
    let changed = false;
    alarms.forEach((alarm, k) => {
      const acc = accumulators[k];
      acc.sum += value[alarm.policy.metric];
      acc.n++;
      if ((t + 1) % alarm.periodSeconds === 0) {
        latest[k] = alarm.evaluate(acc.sum / acc.n, counted);
        acc.sum = 0;
        acc.n = 0;
        changed = true;
      }
    });
    if (changed) {
      const next = combine(latest, desired, group.minSize, group.maxSize, warming, group.policies.map((p) => p.disableScaleIn === true));
      if (next !== undefined) {
        activities++;
        if (next > desired) launch(t + 1, next - desired);
        else terminate(desired - next);
        desired = next;
      }
    }
    if (group.warmPool) {
      // Refill the pool to its minimum with cold launches into it (they are Warmed:Stopped when done).
      while (pool.length < group.warmPool.minSize) pool.push(t + 1 + group.coldStartSeconds);
    }
    samples.push({ t, offered, served, shed, inService: serving.length, desired, warmPool: pool.length, p99Ms: p99 });
  }
  return {
    samples,
    offered: offeredTotal,
    served: servedTotal,
    shed: shedTotal,
    shedFraction: offeredTotal > 0 ? shedTotal / offeredTotal : 0,
    p99Ms: weightedPercentile(latencies, 0.99),
    secondsOverSlo,
    instanceHours: runningSeconds / 3600,
    warmPoolHours: poolSeconds / 3600,
    maxInService,
    scalingActivities: activities,
  };
}
