/**
 * What a fleet release asks of AWS: the StartInstanceRefresh desired configuration (the launch
 * template at a specific numbered version, inside the mixed instances policy for spot groups) and
 * preferences (checkpoints, healthy percentages, warmup, bake time, auto rollback on the gating
 * alarms). Built here, once, from plain values: the FleetRelease component declares it (so the
 * graph tests and the rules see it), the release tests send it to the simulation. No Pulumi imports.
 */
import type { DesiredConfiguration, RefreshPreferences } from '@aws-sdk/client-auto-scaling';

export const RELEASE_DEFAULTS = {
  /** Pause at each share of the fleet replaced, so the alarms can judge the new release on real traffic. */
  checkpointPercentages: [25, 50, 100],
  checkpointDelaySeconds: 300,
  /** Never below full capacity: new instances come up before old ones go... */
  minHealthyPercentage: 100,
  /** ...up to half the fleet again at once. */
  maxHealthyPercentage: 150,
  /** After the last replacement the alarms keep watching this long before the release counts as done. */
  bakeTimeSeconds: 600,
};

export interface MixedInstancesPlan {
  instanceTypes: string[];
  onDemandBase: number;
  onDemandPercentage: number;
}

export interface ReleasePlanInput {
  launchTemplateId: string;
  /** The launch template version to release: a number, never $Latest or $Default. */
  version: number | string;
  /** CloudWatch alarms that stop the release and roll it back (AWS allows up to 10). */
  alarmNames: string[];
  /** Seconds a new instance gets after entering service before the next replacement. */
  instanceWarmupSeconds: number;
  /** Spot groups: the mixed instances policy the desired configuration must carry. */
  mixedInstances?: MixedInstancesPlan;
}

export function desiredConfiguration(p: ReleasePlanInput): DesiredConfiguration {
  const spec = { LaunchTemplateId: p.launchTemplateId, Version: String(p.version) };
  if (!p.mixedInstances) return { LaunchTemplate: spec };
  return {
    MixedInstancesPolicy: {
      LaunchTemplate: { LaunchTemplateSpecification: spec, Overrides: p.mixedInstances.instanceTypes.map((t) => ({ InstanceType: t })) },
      InstancesDistribution: {
        OnDemandBaseCapacity: p.mixedInstances.onDemandBase,
        OnDemandPercentageAboveBaseCapacity: p.mixedInstances.onDemandPercentage,
        SpotAllocationStrategy: 'price-capacity-optimized',
      },
    },
  };
}

export function refreshPreferences(p: ReleasePlanInput, d = RELEASE_DEFAULTS): RefreshPreferences {
  return {
    MinHealthyPercentage: d.minHealthyPercentage,
    MaxHealthyPercentage: d.maxHealthyPercentage,
    InstanceWarmup: p.instanceWarmupSeconds,
    CheckpointPercentages: d.checkpointPercentages,
    CheckpointDelay: d.checkpointDelaySeconds,
    BakeTime: d.bakeTimeSeconds,
    SkipMatching: true,
    AutoRollback: true,
    AlarmSpecification: { Alarms: p.alarmNames },
    // The platform protects no instance from scale-in, so a protected one is stale: replace it. An
    // instance in Standby is under an operator's hands: leave it rather than wait an hour and fail.
    ScaleInProtectedInstances: 'Refresh',
    StandbyInstances: 'Ignore',
  };
}
