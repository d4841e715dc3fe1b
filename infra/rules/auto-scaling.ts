/** EC2 Auto Scaling groups: warm pools, lifecycle hooks, scaling policies, instance refresh. */
import type { StackConfig } from '../config';
import { stackKey } from './keys';
import type { AwsRule } from './types';

const GROUP = 'aws:autoscaling/group:Group';

export const autoScalingRules: AwsRule[] = [
  {
    id: 'asg-warm-pool-mixed-instances',
    resourceTypes: [GROUP],
    resource: 'Auto Scaling group',
    setting: 'WarmPool with MixedInstancesPolicy',
    rule: 'A warm pool cannot be added to a group that has a mixed instances policy or requests Spot Instances.',
    sources: ['https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutWarmPool.html'],
    keys: ['warmPool.enabled', 'spot.enabled'],
    checkConfig: (c: StackConfig) =>
      c.platform === 'aws' && c.warmPool.enabled && c.spot.enabled
        ? { key: 'warmPool.enabled', message: `got true, but AWS does not allow a warm pool with spot (mixed instances); expected false while ${stackKey('spot.enabled')} is true` }
        : undefined,
    checkGraph: (resources) =>
      resources
        .filter((r) => r.type === GROUP && (r.inputs as any).warmPool && (r.inputs as any).mixedInstancesPolicy)
        .map((r) => ({ resource: `${r.type} ${r.name}`, message: 'has both a warm pool and a mixed instances policy' })),
    violation: { base: 'prod-us-east-1', config: { spot: { enabled: true } } },
  },
];
