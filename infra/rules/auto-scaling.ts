/** EC2 Auto Scaling groups: warm pools, lifecycle hooks, scaling policies, instance refresh, mixed instances, schedules. */
import { SATURATION_METRIC } from '../../runtime/contract';
import type { StackConfig } from '../config';
import { isGravitonType } from '../aws/ami';
import { byArn, eachResource, inputsOf, inRange, num, regionOf } from './graph';
import { stackKey } from './keys';
import type { AwsRule } from './types';

const GROUP = 'aws:autoscaling/group:Group';
const POLICY = 'aws:autoscaling/policy:Policy';
const SCHEDULE = 'aws:autoscaling/schedule:Schedule';
const API = 'https://docs.aws.amazon.com/autoscaling/ec2/APIReference';
const HIGH_RESOLUTION = 'https://docs.aws.amazon.com/autoscaling/ec2/userguide/policy-creating-high-resolution-metrics.html';
/** Target tracking's accepted metric periods (API_CustomizedMetricSpecification, API_TargetTrackingMetricStat). */
const TARGET_TRACKING_PERIODS = [10, 30, 60];

/** The metrics a customized target tracking specification reads: the metric itself, or each metric stat of a math query; with the period each is read at (default 60). */
function trackedMetrics(spec: any): Array<{ namespace?: string; metricName?: string; period: number; label: string }> {
  if (!spec) return [];
  if (Array.isArray(spec.metrics) && spec.metrics.length > 0) {
    return spec.metrics
      .filter((m: any) => m.metricStat)
      .map((m: any) => ({ namespace: m.metricStat.metric?.namespace, metricName: m.metricStat.metric?.metricName, period: num(m.metricStat.period ?? spec.period) ?? 60, label: `metric ${m.id}` }));
  }
  return [{ namespace: spec.namespace, metricName: spec.metricName, period: num(spec.period) ?? 60, label: `${spec.namespace}/${spec.metricName}` }];
}

/** Metrics the runtime publishes with PutMetricData at high resolution, and how often (runtime/cloudwatch-publisher.ts). */
const HIGH_RESOLUTION_METRICS = new Set<string>([SATURATION_METRIC.saturation, SATURATION_METRIC.pending, SATURATION_METRIC.queueWait].map((m) => `${SATURATION_METRIC.namespace}/${m}`));

/** Healthy-percentage pairs of the instance maintenance policy and of instance refresh preferences. */
function healthyPercentages(label: string, p: { minHealthyPercentage?: unknown; maxHealthyPercentage?: unknown } | undefined): string[] {
  if (!p) return [];
  const min = num(p.minHealthyPercentage);
  const max = num(p.maxHealthyPercentage);
  const out: string[] = [];
  if (min !== undefined && !inRange(min, 0, 100)) out.push(`${label} minimum healthy ${min} %, expected 0–100`);
  if (max !== undefined && !inRange(max, 100, 200)) out.push(`${label} maximum healthy ${max} %, expected 100–200`);
  if (min !== undefined && max !== undefined && max - min > 100) out.push(`${label} maximum − minimum healthy is ${max - min}, expected at most 100`);
  return out;
}

export const autoScalingRules: AwsRule[] = [
  {
    id: 'asg-warm-pool-mixed-instances',
    resourceTypes: [GROUP],
    resource: 'Auto Scaling group',
    setting: 'WarmPool with MixedInstancesPolicy',
    rule: 'A warm pool cannot be added to a group that has a mixed instances policy or requests Spot Instances.',
    sources: [`${API}/API_PutWarmPool.html`],
    keys: ['warmPool.enabled', 'spot.enabled'],
    checkConfig: (c: StackConfig) =>
      c.platform === 'aws' && c.warmPool.enabled && c.spot.enabled
        ? { key: 'warmPool.enabled', message: `got true, but AWS does not allow a warm pool with spot (mixed instances); expected false while ${stackKey('spot.enabled')} is true` }
        : undefined,
    checkGraph: eachResource([GROUP], (i) => (i.warmPool && i.mixedInstancesPolicy ? 'has both a warm pool and a mixed instances policy' : undefined)),
    violation: { base: 'prod-us-east-1', config: { spot: { enabled: true } } },
  },
  {
    id: 'asg-lifecycle-hook-timeout',
    resourceTypes: [GROUP],
    resource: 'Auto Scaling lifecycle hook',
    setting: 'HeartbeatTimeout, DefaultResult',
    rule: 'A lifecycle hook times out after 30 to 7200 seconds, with CONTINUE or ABANDON as its default result.',
    sources: [`${API}/API_LifecycleHookSpecification.html`, `${API}/API_PutLifecycleHook.html`],
    keys: [],
    checkGraph: eachResource([GROUP], (i) =>
      (i.initialLifecycleHooks ?? []).flatMap((h: any) => [
        ...(inRange(num(h.heartbeatTimeout ?? 3600), 30, 7200) ? [] : [`hook ${h.name}: heartbeat timeout ${h.heartbeatTimeout} s, expected 30–7200`]),
        ...(['CONTINUE', 'ABANDON', undefined].includes(h.defaultResult) ? [] : [`hook ${h.name}: default result ${h.defaultResult}, expected CONTINUE or ABANDON`]),
      ]),
    ),
    violation: { base: 'dev', patch: [{ type: GROUP, set: { 'initialLifecycleHooks.0.heartbeatTimeout': 7201 } }] },
  },
  {
    id: 'asg-lifecycle-hook-name',
    resourceTypes: [GROUP],
    resource: 'Auto Scaling lifecycle hook',
    setting: 'LifecycleHookName',
    rule: 'A lifecycle hook name is 1 to 255 characters of letters, digits, -, _ and /.',
    sources: [`${API}/API_LifecycleHookSpecification.html`],
    keys: [],
    checkGraph: eachResource([GROUP], (i) => (i.initialLifecycleHooks ?? []).filter((h: any) => !/^[A-Za-z0-9\-_/]{1,255}$/.test(String(h.name))).map((h: any) => `hook name ${JSON.stringify(h.name)}`)),
    violation: { base: 'dev', patch: [{ type: GROUP, set: { 'initialLifecycleHooks.0.name': 'onnx fleet ready' } }] },
  },
  {
    id: 'asg-request-count-resource-label',
    resourceTypes: [POLICY],
    resource: 'Target tracking scaling policy',
    setting: 'PredefinedMetricSpecification.ResourceLabel',
    rule: 'ALBRequestCountPerTarget needs a resource label app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id> of a target group attached to the group.',
    sources: [`${API}/API_PredefinedMetricSpecification.html`],
    keys: ['scaling.requestsPerTarget'],
    checkGraph: eachResource([POLICY], (i, _r, all) => {
      const spec = i.targetTrackingConfiguration?.predefinedMetricSpecification;
      if (spec?.predefinedMetricType !== 'ALBRequestCountPerTarget') return undefined;
      const m = /^app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/(targetgroup\/([A-Za-z0-9-]{1,32})\/[0-9a-f]{16})$/.exec(String(spec.resourceLabel));
      if (!m) return `resource label ${JSON.stringify(spec.resourceLabel)} is not app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>`;
      const group = all.find((g) => g.type === GROUP && `${g.name}-asg` === i.autoscalingGroupName);
      const attached = (group ? inputsOf(group).targetGroupArns ?? [] : []).map((arn: unknown) => byArn(all, arn)?.name);
      return attached.includes(m[2]) ? undefined : `target group ${m[2]} is not attached to the group ${i.autoscalingGroupName}`;
    }),
    violation: { base: 'staging', patch: [{ type: POLICY, name: 'onnx-fleet-canary-requests', set: { 'targetTrackingConfiguration.predefinedMetricSpecification.resourceLabel': 'app/onnx-fleet-alb/0123456789abcdef/targetgroup/onnx-fleet-alb-runtime/0123456789abcdef' } }] },
  },
  {
    id: 'asg-target-tracking-metric-period',
    resourceTypes: [POLICY],
    resource: 'Target tracking scaling policy',
    setting: 'CustomizedMetricSpecification.Period, TargetTrackingMetricStat.Period',
    rule: 'A customized target tracking metric is read with a period of 10, 30 or 60 seconds (60 when omitted); periods above 60 are not supported, and below 60 only 10 and 30 (high-resolution metrics).',
    sources: [HIGH_RESOLUTION, `${API}/API_CustomizedMetricSpecification.html`, `${API}/API_TargetTrackingMetricStat.html`],
    keys: [],
    checkGraph: eachResource([POLICY], (i) =>
      trackedMetrics(i.targetTrackingConfiguration?.customizedMetricSpecification)
        .filter((m) => !TARGET_TRACKING_PERIODS.includes(m.period))
        .map((m) => `${m.label} read with a period of ${m.period} s, expected 10, 30 or 60`),
    ),
    violation: { base: 'prod-us-east-1', patch: [{ type: POLICY, name: 'onnx-fleet-fleet-saturation', set: { 'targetTrackingConfiguration.customizedMetricSpecification.period': 20 } }] },
  },
  {
    id: 'asg-high-resolution-metric',
    resourceTypes: [POLICY],
    resource: 'Target tracking scaling policy',
    setting: 'CustomizedMetricSpecification.Period < 60 with the metric\'s StorageResolution',
    rule: 'Target tracking on a period under 60 s needs a high-resolution metric: published with PutMetricData StorageResolution 1 at least once per period (AWS namespaces publish every minute or slower); it is not available in the AWS GovCloud (US) Regions.',
    sources: [HIGH_RESOLUTION, 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html', 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/publishingMetrics.html'],
    keys: ['aws:region'],
    checkGraph: (all) => {
      const region = regionOf(all) ?? '';
      return eachResource([POLICY], (i) =>
        trackedMetrics(i.targetTrackingConfiguration?.customizedMetricSpecification)
          .filter((m) => m.period < 60)
          .flatMap((m) => {
            const out: string[] = [];
            if (region.startsWith('us-gov-')) out.push(`${m.label} read every ${m.period} s in ${region}: high-resolution target tracking is not available in the AWS GovCloud (US) Regions`);
            if (!HIGH_RESOLUTION_METRICS.has(`${m.namespace}/${m.metricName}`)) out.push(`${m.label} read every ${m.period} s, but it is not a metric this platform publishes at high resolution (${[...HIGH_RESOLUTION_METRICS].join(', ')})`);
            else if (SATURATION_METRIC.storageResolutionSeconds !== 1 || SATURATION_METRIC.periodSeconds > m.period) out.push(`${m.label} read every ${m.period} s, but the runtime publishes it every ${SATURATION_METRIC.periodSeconds} s at StorageResolution ${SATURATION_METRIC.storageResolutionSeconds}`);
            return out;
          }),
      )(all);
    },
    violation: {
      base: 'staging',
      patch: [{ type: POLICY, name: 'onnx-fleet-fleet-saturation', set: { 'targetTrackingConfiguration.customizedMetricSpecification.namespace': 'AWS/EC2', 'targetTrackingConfiguration.customizedMetricSpecification.metricName': 'CPUUtilization' } }],
    },
  },
  {
    id: 'asg-predictive-scaling-buffers',
    resourceTypes: [POLICY],
    resource: 'Predictive scaling policy',
    setting: 'SchedulingBufferTime, MaxCapacityBuffer',
    rule: 'The scheduling buffer is at most 3600 seconds; a max capacity buffer (0–100 %) is allowed only with IncreaseMaxCapacity.',
    sources: [`${API}/API_PredictiveScalingConfiguration.html`],
    keys: ['scaling.predictive'],
    checkGraph: eachResource([POLICY], (i) => {
      const p = i.predictiveScalingConfiguration;
      if (!p) return undefined;
      const out: string[] = [];
      if (!inRange(num(p.schedulingBufferTime ?? 0), 0, 3600)) out.push(`scheduling buffer ${p.schedulingBufferTime} s, expected 0–3600`);
      if (p.maxCapacityBuffer !== undefined && (p.maxCapacityBreachBehavior !== 'IncreaseMaxCapacity' || !inRange(num(p.maxCapacityBuffer), 0, 100))) out.push(`max capacity buffer ${p.maxCapacityBuffer} with ${p.maxCapacityBreachBehavior ?? 'HonorMaxCapacity'}`);
      return out;
    }),
    violation: { base: 'prod-us-east-1', patch: [{ type: POLICY, name: 'onnx-fleet-fleet-predictive', set: { 'predictiveScalingConfiguration.schedulingBufferTime': '3601' } }] },
  },
  {
    id: 'asg-healthy-percentages',
    resourceTypes: [GROUP],
    resource: 'Auto Scaling group',
    setting: 'InstanceMaintenancePolicy Min/MaxHealthyPercentage',
    rule: 'Minimum healthy is 0–100 %, maximum healthy 100–200 %, and maximum minus minimum is at most 100.',
    sources: [`${API}/API_InstanceMaintenancePolicy.html`],
    keys: [],
    // The release step's refresh preferences: asg-refresh-healthy-percentages (instance-refresh.ts).
    checkGraph: eachResource([GROUP], (i) => healthyPercentages('instance maintenance', i.instanceMaintenancePolicy)),
    violation: { base: 'dev', patch: [{ type: GROUP, set: { 'instanceMaintenancePolicy.minHealthyPercentage': 40 } }] },
  },
  {
    id: 'asg-mixed-instances-overrides',
    resourceTypes: [GROUP],
    resource: 'Mixed instances policy',
    setting: 'LaunchTemplate.Overrides',
    rule: 'A mixed instances policy lists up to 40 instance types, each once.',
    sources: [`${API}/API_LaunchTemplate.html`, 'https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-mixed-instances-groups.html'],
    keys: ['spot.instanceTypes'],
    checkConfig: (c: StackConfig) => {
      if (c.platform !== 'aws' || !c.spot.enabled) return undefined;
      const types = c.spot.instanceTypes;
      if (types.length > 40) return { key: 'spot.instanceTypes', message: `got ${types.length} instance types, expected at most 40` };
      const twice = types.find((t, k) => types.indexOf(t) !== k);
      return twice ? { key: 'spot.instanceTypes', message: `got ${JSON.stringify(twice)} twice, expected each instance type once` } : undefined;
    },
    checkGraph: eachResource([GROUP], (i) => {
      const types = (i.mixedInstancesPolicy?.launchTemplate?.overrides ?? []).map((o: any) => o.instanceType);
      return types.length > 40 || new Set(types).size !== types.length ? `${types.length} overrides (${new Set(types).size} distinct), expected at most 40 distinct` : undefined;
    }),
    violation: {
      base: 'staging',
      config: { spot: { instanceTypes: ['c5', 'c5a', 'c5n', 'c6a', 'c6i', 'c6in', 'c7a', 'c7i', 'm5', 'm5a', 'm5n', 'm6a', 'm6i', 'm6in', 'm7a', 'm7i', 'r5', 'r5a', 'r5n', 'r6a', 'r6i'].flatMap((f) => [`${f}.large`, `${f}.xlarge`]) } },
    },
  },
  {
    id: 'ec2-instance-type-architecture',
    resourceTypes: [GROUP, 'aws:ec2/launchTemplate:LaunchTemplate'],
    resource: 'Launch template, mixed instances policy',
    setting: 'InstanceType, Overrides[].InstanceType with ImageId',
    rule: "Every instance type the group launches has the AMI's architecture (Graviton types are arm64, the others x86_64).",
    sources: ['https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-mixed-instances-groups.html', 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-types.html'],
    keys: ['instanceType', 'arch', 'spot.instanceTypes'],
    checkConfig: (c: StackConfig) => {
      if (c.platform !== 'aws') return undefined;
      const types = [c.instanceType, ...(c.spot.enabled ? c.spot.instanceTypes : [])];
      const wrong = types.find((t) => isGravitonType(t) !== (c.arch === 'arm64'));
      if (!wrong) return undefined;
      return { key: wrong === c.instanceType ? 'instanceType' : 'spot.instanceTypes', message: `got ${JSON.stringify(wrong)}, which is ${isGravitonType(wrong) ? 'arm64 (Graviton)' : 'x64'}, but ${stackKey('arch')} is ${c.arch}; expected instance types of the AMI's architecture` };
    },
    checkGraph: eachResource([GROUP], (i) => {
      const types: string[] = (i.mixedInstancesPolicy?.launchTemplate?.overrides ?? []).map((o: any) => o.instanceType);
      return new Set(types.map(isGravitonType)).size > 1 ? `overrides mix arm64 and x86_64 types: ${types.join(', ')}` : undefined;
    }),
    violation: { base: 'staging', config: { spot: { instanceTypes: ['c7i.large', 'c7g.large'] } } },
  },
  {
    id: 'asg-scheduled-action-names',
    resourceTypes: [SCHEDULE],
    resource: 'Scheduled action',
    setting: 'ScheduledActionName',
    rule: "A scheduled action's name (1–255 characters) is unique in its group: a second action of the same name replaces the first.",
    sources: [`${API}/API_PutScheduledUpdateGroupAction.html`],
    keys: ['scaling.schedules[].name'],
    checkConfig: (c: StackConfig) => {
      const names = c.scaling.schedules.map((s) => s.name);
      const k = names.findIndex((n, j) => names.indexOf(n) !== j || n.length > 255);
      return k < 0 ? undefined : { key: `scaling.schedules[${k}].name`, message: `got ${JSON.stringify(names[k])}, expected a name of at most 255 characters that no other schedule uses` };
    },
    checkGraph: (all) => {
      const seen = new Map<string, string>();
      return all
        .filter((r) => r.type === SCHEDULE)
        .flatMap((r) => {
          const i = inputsOf(r);
          const k = `${i.autoscalingGroupName}/${i.scheduledActionName}`;
          const before = seen.get(k);
          seen.set(k, r.name);
          return before ? [{ resource: `${r.type} ${r.name}`, message: `scheduled action ${i.scheduledActionName} also defined by ${before}` }] : [];
        });
    },
    violation: {
      base: 'prod-us-east-1',
      config: { scaling: { schedules: [{ name: 'night', recurrence: '0 13 * * 1-5', minSize: 6, maxSize: 24, desiredCapacity: 6 }, { name: 'night', recurrence: '0 1 * * *', minSize: 3, maxSize: 24, desiredCapacity: 3 }] } },
    },
  },
  {
    id: 'asg-scheduled-action-time-zone',
    resourceTypes: [SCHEDULE],
    resource: 'Scheduled action',
    setting: 'TimeZone',
    rule: 'A scheduled action time zone is a canonical IANA time zone name.',
    sources: [`${API}/API_PutScheduledUpdateGroupAction.html`],
    keys: ['scaling.schedules[].timeZone'],
    checkConfig: (c: StackConfig) => {
      const k = c.scaling.schedules.findIndex((s) => s.timeZone !== undefined && !ianaZone(s.timeZone));
      return k < 0 ? undefined : { key: `scaling.schedules[${k}].timeZone`, message: `got ${JSON.stringify(c.scaling.schedules[k].timeZone)}, expected an IANA time zone such as Europe/Paris or Etc/UTC` };
    },
    checkGraph: eachResource([SCHEDULE], (i) => (i.timeZone === undefined || ianaZone(i.timeZone) ? undefined : `time zone ${i.timeZone}`)),
    violation: { base: 'prod-us-east-1', config: { scaling: { schedules: [{ name: 'night', recurrence: '0 1 * * *', minSize: 3, maxSize: 24, desiredCapacity: 3, timeZone: 'Mars/Olympus_Mons' }] } } },
  },
];

function ianaZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(zone);
  } catch {
    return false;
  }
}
