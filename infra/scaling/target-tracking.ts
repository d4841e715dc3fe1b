/**
 * EC2 Auto Scaling target tracking, as its documentation describes it, for the simulator. Pure.
 *
 * - Auto Scaling creates two CloudWatch alarms per policy: a high alarm that needs 3 consecutive
 *   datapoints above the target, and a low alarm that needs 15 consecutive datapoints below 90 %
 *   of it (scale out fast, scale in gradually; "target tracking will not remove capacity unless
 *   the metric is usually more than 10 % lower than the target").
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html
 * - A datapoint is one metric period: 60 s for the predefined metrics (CPU with detailed
 *   monitoring, ALB request count per target), 10 s for a high-resolution custom metric with
 *   `period: 10`. https://docs.aws.amazon.com/autoscaling/ec2/userguide/policy-creating-high-resolution-metrics.html
 * - While an alarm is in ALARM the policy is invoked every period; the new capacity is
 *   proportional: ceil(counted × metric / target), where instances still in their instance warmup
 *   are not counted (so a second invocation during warmup does not launch twice).
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-default-instance-warmup.html
 * - Several policies: scale out when any policy asks, to the largest capacity; scale in only when
 *   every policy agrees, to the largest of their capacities; a policy with DisableScaleIn takes
 *   no part in scale-in.
 * - Target tracking on an Auto Scaling group has no scale-in cooldown (ScaleInCooldown applies to
 *   Application Auto Scaling targets only) and scale-out starts without waiting for any cooldown;
 *   the group does not scale in while instances are in warmup (their metrics are not in yet).
 *
 * Simplified: CloudWatch's publication delay (about one period for ALB and EC2 metrics) is one
 * period; the alarms' datapoints are the period's mean; the November 2024 "highly responsive"
 * auto-tuning of the alarms is not modelled (the legacy 3 / 15 datapoints are).
 */

export type ScalingMetric = 'cpu' | 'requestCount' | 'saturation';

export interface TargetTrackingPolicy {
  metric: ScalingMetric;
  /** CPU percent, ALB requests per target per minute, or saturation (requests per worker). */
  target: number;
  /** DisableScaleIn: the policy only scales out; scale-in is left to the others (it does not veto it). */
  disableScaleIn?: boolean;
}

export const METRIC_PERIOD_SECONDS: Record<ScalingMetric, number> = { cpu: 60, requestCount: 60, saturation: 10 };
export const HIGH_ALARM_DATAPOINTS = 3;
export const LOW_ALARM_DATAPOINTS = 15;
/** The low alarm's threshold as a share of the target. */
export const LOW_ALARM_RATIO = 0.9;

export type Decision = { kind: 'out'; capacity: number } | { kind: 'in'; capacity: number } | { kind: 'hold' };

/** One policy's alarms over its metric's datapoints. */
export class PolicyAlarms {
  private readonly datapoints: number[] = [];

  constructor(readonly policy: TargetTrackingPolicy) {
    if (!(policy.target > 0)) throw new Error(`target tracking on ${policy.metric}: the target must be positive, got ${policy.target}`);
  }

  get periodSeconds(): number {
    return METRIC_PERIOD_SECONDS[this.policy.metric];
  }

  /** Adds the datapoint of a period that just ended; returns what the policy asks for. */
  evaluate(datapoint: number, countedCapacity: number): Decision {
    this.datapoints.push(datapoint);
    if (this.datapoints.length > LOW_ALARM_DATAPOINTS) this.datapoints.shift();
    const last = (n: number) => (this.datapoints.length >= n ? this.datapoints.slice(-n) : undefined);
    const high = last(HIGH_ALARM_DATAPOINTS);
    const proportional = Math.ceil(Math.max(1, countedCapacity) * (datapoint / this.policy.target) - 1e-9);
    if (high && high.every((d) => d > this.policy.target)) return { kind: 'out', capacity: proportional };
    const low = last(LOW_ALARM_DATAPOINTS);
    if (!this.policy.disableScaleIn && low && low.every((d) => d < this.policy.target * LOW_ALARM_RATIO)) return { kind: 'in', capacity: Math.max(0, proportional) };
    return { kind: 'hold' };
  }
}

/**
 * Combines the policies' latest decisions into a new desired capacity (or none). `decisions`
 * holds each policy's most recent decision; a policy that has not decided yet holds.
 */
export function combine(all: Decision[], desired: number, min: number, max: number, warming: number, scaleInDisabled: boolean[] = []): number | undefined {
  const outs = all.filter((d): d is { kind: 'out'; capacity: number } => d.kind === 'out');
  // Policies with scale-in disabled neither ask for nor block a scale-in.
  const decisions = all.filter((_, i) => !scaleInDisabled[i]);
  if (outs.length > 0) {
    const capacity = Math.min(max, Math.max(...outs.map((d) => d.capacity)));
    return capacity > desired ? capacity : undefined;
  }
  return scaleIn(decisions, desired, min, warming);
}

function scaleIn(decisions: Decision[], desired: number, min: number, warming: number): number | undefined {
  if (warming > 0 || decisions.length === 0 || !decisions.every((d) => d.kind === 'in')) return undefined;
  const capacity = Math.max(min, Math.max(...decisions.map((d) => d.capacity)));
  return capacity < desired ? capacity : undefined;
}
