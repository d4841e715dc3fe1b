/** Application Load Balancers, their listeners and target groups. */
import { eachResource } from './graph';
import type { AwsRule } from './types';

const TARGET_GROUP = 'aws:lb/targetGroup:TargetGroup';
const TG_ATTRIBUTES = 'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html';

export const loadBalancerRules: AwsRule[] = [
  {
    id: 'tg-slow-start-weighted-random',
    resourceTypes: [TARGET_GROUP],
    resource: 'ALB target group',
    setting: 'slow_start.duration_seconds with load_balancing.algorithm.type',
    rule: 'Slow start cannot be enabled on a target group that routes with weighted_random.',
    sources: [TG_ATTRIBUTES, 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html'],
    keys: ['loadBalancingAlgorithm'],
    checkGraph: eachResource([TARGET_GROUP], (i) =>
      i.loadBalancingAlgorithmType === 'weighted_random' && Number(i.slowStart ?? 0) > 0 ? `slow start ${i.slowStart} s with weighted_random` : undefined,
    ),
    violation: { base: 'staging', patch: [{ type: TARGET_GROUP, name: 'onnx-fleet-alb-runtime', set: { slowStart: 30 } }] },
  },
];
