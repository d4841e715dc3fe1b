/** Application Load Balancers, their listeners and target groups. */
import type { StackConfig } from '../config';
import { autoName, bucketNamed, byId, eachResource, inputsOf, inRange, num, regionOf } from './graph';
import type { AwsRule } from './types';

const LB = 'aws:lb/loadBalancer:LoadBalancer';
const TG = 'aws:lb/targetGroup:TargetGroup';
const LISTENER = 'aws:lb/listener:Listener';
const SSE = 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration';
const ELB_API = 'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference';
const TG_ATTRIBUTES = `${ELB_API}/API_TargetGroupAttribute.html`;
const CREATE_TG = `${ELB_API}/API_CreateTargetGroup.html`;
const ELB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

export const loadBalancerRules: AwsRule[] = [
  {
    id: 'tg-slow-start-weighted-random',
    resourceTypes: [TG],
    resource: 'ALB target group',
    setting: 'slow_start.duration_seconds with load_balancing.algorithm.type',
    rule: 'Slow start cannot be enabled on a target group that routes with weighted_random.',
    sources: [TG_ATTRIBUTES, 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html'],
    keys: ['loadBalancingAlgorithm'],
    checkGraph: eachResource([TG], (i) => (i.loadBalancingAlgorithmType === 'weighted_random' && Number(i.slowStart ?? 0) > 0 ? `slow start ${i.slowStart} s with weighted_random` : undefined)),
    violation: { base: 'staging', patch: [{ type: TG, name: 'onnx-fleet-alb-runtime', set: { slowStart: 30 } }] },
  },
  {
    id: 'tg-anomaly-mitigation-weighted-random',
    resourceTypes: [TG],
    resource: 'ALB target group',
    setting: 'load_balancing.algorithm.anomaly_mitigation',
    rule: 'Anomaly mitigation is available only when the routing algorithm is weighted_random.',
    sources: [TG_ATTRIBUTES],
    keys: ['loadBalancingAlgorithm'],
    checkGraph: eachResource([TG], (i) => (i.loadBalancingAnomalyMitigation === 'on' && i.loadBalancingAlgorithmType !== 'weighted_random' ? `anomaly mitigation on with ${i.loadBalancingAlgorithmType ?? 'round_robin'}` : undefined)),
    violation: { base: 'dev', patch: [{ type: TG, set: { loadBalancingAnomalyMitigation: 'on' } }] },
  },
  {
    id: 'tg-health-check-interval',
    resourceTypes: [TG],
    resource: 'ALB target group',
    setting: 'HealthCheckIntervalSeconds',
    rule: 'The health check interval is 5 to 300 seconds.',
    sources: [CREATE_TG],
    keys: [],
    checkGraph: eachResource([TG], (i) => (inRange(i.healthCheck?.interval, 5, 300) ? undefined : `health check interval ${i.healthCheck?.interval} s, expected 5–300`)),
    violation: { base: 'dev', patch: [{ type: TG, set: { 'healthCheck.interval': 301 } }] },
  },
  {
    id: 'tg-health-check-timeout',
    resourceTypes: [TG],
    resource: 'ALB target group',
    setting: 'HealthCheckTimeoutSeconds',
    rule: 'The health check timeout is 2 to 120 seconds and shorter than the interval.',
    sources: [CREATE_TG, 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html'],
    keys: [],
    checkGraph: eachResource([TG], (i) => {
      const { timeout, interval } = i.healthCheck ?? {};
      return inRange(timeout, 2, 120) && timeout < interval ? undefined : `health check timeout ${timeout} s with interval ${interval} s, expected 2–120 and below the interval`;
    }),
    violation: { base: 'dev', patch: [{ type: TG, set: { 'healthCheck.timeout': 5 } }] },
  },
  {
    id: 'tg-health-check-thresholds',
    resourceTypes: [TG],
    resource: 'ALB target group',
    setting: 'HealthyThresholdCount, UnhealthyThresholdCount',
    rule: 'Healthy and unhealthy threshold counts are 2 to 10.',
    sources: [CREATE_TG],
    keys: [],
    checkGraph: eachResource([TG], (i) =>
      (['healthyThreshold', 'unhealthyThreshold'] as const).filter((k) => !inRange(i.healthCheck?.[k], 2, 10)).map((k) => `${k} ${i.healthCheck?.[k]}, expected 2–10`),
    ),
    violation: { base: 'staging', patch: [{ type: TG, name: 'onnx-fleet-alb-canary', set: { 'healthCheck.unhealthyThreshold': 1 } }] },
  },
  {
    id: 'tg-health-check-path-matcher',
    resourceTypes: [TG],
    resource: 'ALB target group',
    setting: 'HealthCheckPath, Matcher.HttpCode',
    rule: 'An HTTP health check path starts with / (at most 1024 characters) and its success codes are from 200 to 499.',
    sources: [CREATE_TG, `${ELB_API}/API_Matcher.html`],
    keys: [],
    checkGraph: eachResource([TG], (i) => {
      const out: string[] = [];
      const p = i.healthCheck?.path;
      if (typeof p !== 'string' || !p.startsWith('/') || p.length > 1024) out.push(`health check path ${JSON.stringify(p)}`);
      const codes = String(i.healthCheck?.matcher ?? '200').split(/[,-]/).map(Number);
      if (codes.some((c) => !(c >= 200 && c <= 499))) out.push(`success codes ${i.healthCheck?.matcher}, expected 200–499`);
      return out;
    }),
    violation: { base: 'dev', patch: [{ type: TG, set: { 'healthCheck.matcher': '200,503' } }] },
  },
  {
    id: 'tg-deregistration-delay',
    resourceTypes: [TG],
    resource: 'ALB target group',
    setting: 'deregistration_delay.timeout_seconds',
    rule: 'The deregistration delay is 0 to 3600 seconds.',
    sources: [TG_ATTRIBUTES],
    keys: [],
    checkGraph: eachResource([TG], (i) => (inRange(num(i.deregistrationDelay ?? 300), 0, 3600) ? undefined : `deregistration delay ${i.deregistrationDelay} s, expected 0–3600`)),
    violation: { base: 'prod-eu-west-1', patch: [{ type: TG, set: { deregistrationDelay: 3601 } }] },
  },
  {
    id: 'tg-slow-start-duration',
    resourceTypes: [TG],
    resource: 'ALB target group',
    setting: 'slow_start.duration_seconds',
    rule: 'Slow start is 0 (off) or 30 to 900 seconds.',
    sources: [TG_ATTRIBUTES],
    keys: [],
    checkGraph: eachResource([TG], (i) => {
      const s = num(i.slowStart ?? 0)!;
      return s === 0 || inRange(s, 30, 900) ? undefined : `slow start ${s} s, expected 0 or 30–900`;
    }),
    violation: { base: 'dev', patch: [{ type: TG, set: { slowStart: 10 } }] },
  },
  {
    id: 'elb-names',
    resourceTypes: [LB, TG],
    resource: 'ALB, target group',
    setting: 'Name',
    rule: 'Load balancer and target group names have at most 32 characters, only letters, digits and hyphens, do not begin or end with a hyphen, and a load balancer name does not begin with "internal-" (Pulumi adds 8 characters to a logical name).',
    sources: [CREATE_TG, `${ELB_API}/API_CreateLoadBalancer.html`],
    keys: [],
    checkGraph: eachResource([LB, TG], (_i, r) => {
      const { name, generated } = autoName(r);
      const what = generated ? `generated name ${name} (logical name + 8 characters)` : `name ${name}`;
      if (name.length > 32 || !ELB_NAME.test(name)) return `${what}: expected at most 32 letters, digits or hyphens, not beginning or ending with a hyphen`;
      return r.type === LB && name.startsWith('internal-') ? `${what} begins with "internal-"` : undefined;
    }),
    violation: { base: 'dev', patch: [{ type: TG, set: { name: 'onnx-fleet-runtime-targets-primary' } }] },
  },
  {
    id: 'alb-idle-timeout',
    resourceTypes: [LB],
    resource: 'Application Load Balancer',
    setting: 'idle_timeout.timeout_seconds',
    rule: 'The idle timeout is 1 to 4000 seconds.',
    sources: [`${ELB_API}/API_LoadBalancerAttribute.html`],
    keys: [],
    checkGraph: eachResource([LB], (i) => (inRange(num(i.idleTimeout ?? 60), 1, 4000) ? undefined : `idle timeout ${i.idleTimeout} s, expected 1–4000`)),
    violation: { base: 'dev', patch: [{ type: LB, set: { idleTimeout: 4001 } }] },
  },
  {
    id: 'alb-subnets-two-zones',
    resourceTypes: [LB],
    resource: 'Application Load Balancer',
    setting: 'Subnets',
    rule: 'An internet-facing Application Load Balancer has subnets in at least two Availability Zones, at most one subnet per zone.',
    sources: ['https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html', `${ELB_API}/API_CreateLoadBalancer.html`],
    keys: ['availabilityZones'],
    checkGraph: eachResource([LB], (i, _r, all) => {
      const zones = (i.subnets ?? []).map((id: unknown) => (byId(all, id) ? inputsOf(byId(all, id)!).availabilityZone : `unknown subnet ${id}`));
      if (new Set(zones).size !== zones.length) return `several subnets in one zone: ${zones.join(', ')}`;
      return zones.length >= 2 ? undefined : `subnets in ${zones.length} zone(s), expected at least 2`;
    }),
    violation: { base: 'dev', patch: [{ type: LB, set: { subnets: ['onnx-fleet-net-public-0-id'] } }] },
  },
  {
    id: 'alb-forward-weights',
    resourceTypes: [LISTENER],
    resource: 'ALB listener',
    setting: 'ForwardConfig.TargetGroups[].Weight',
    rule: 'A weighted forward action names 1 to 5 target groups, each weight 0 to 999, not all 0.',
    sources: [`${ELB_API}/API_ForwardActionConfig.html`, `${ELB_API}/API_TargetGroupTuple.html`],
    keys: ['canaryWeight'],
    checkGraph: eachResource([LISTENER], (i) =>
      (i.defaultActions ?? [])
        .filter((a: any) => a.forward)
        .flatMap((a: any) => {
          const ws: unknown[] = (a.forward.targetGroups ?? []).map((t: any) => t.weight ?? 1);
          const ok = ws.length >= 1 && ws.length <= 5 && ws.every((w) => inRange(w, 0, 999)) && ws.some((w) => (w as number) > 0);
          return ok ? [] : [`forward weights ${ws.join('/')}, expected 1–5 target groups weighted 0–999, not all 0`];
        }),
    ),
    violation: { base: 'staging', patch: [{ type: LISTENER, set: { 'defaultActions.0.forward.targetGroups.0.weight': 1000 } }] },
  },
  {
    id: 'alb-certificate-region',
    resourceTypes: [LISTENER],
    resource: 'ALB HTTPS listener',
    setting: 'Certificates',
    rule: 'An ALB uses ACM certificates from its own region only.',
    sources: ['https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html', 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/https-listener-certificates.html'],
    keys: ['certificateArn', 'aws:region'],
    checkConfig: (c: StackConfig) => {
      const region = c.certificateArn?.split(':')[3];
      return c.platform === 'aws' && c.certificateArn !== undefined && region !== c.region
        ? { key: 'certificateArn', message: `got ${JSON.stringify(c.certificateArn)}, expected a certificate in ${c.region}: an ALB uses ACM certificates from its own region only` }
        : undefined;
    },
    checkGraph: (all) => {
      const region = regionOf(all);
      return eachResource([LISTENER], (i) => (i.certificateArn && String(i.certificateArn).split(':')[3] !== region ? `certificate ${i.certificateArn} is not in ${region}` : undefined))(all);
    },
    violation: { base: 'prod-us-east-1', config: { certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/7c2d9e41-3a6b-4f0e-8b1d-5e4f3a2b1c0d' } },
  },
  {
    id: 'alb-https-listener-certificate',
    resourceTypes: [LISTENER],
    resource: 'ALB HTTPS listener',
    setting: 'Certificates, SslPolicy',
    rule: 'An HTTPS listener has a default certificate and a security policy; an HTTP listener has neither.',
    sources: [`${ELB_API}/API_CreateListener.html`],
    keys: ['certificateArn'],
    checkGraph: eachResource([LISTENER], (i) => {
      if (i.protocol === 'HTTPS') return i.certificateArn && i.sslPolicy ? undefined : 'HTTPS listener without a certificate or security policy';
      return i.certificateArn || i.sslPolicy ? `${i.protocol} listener with a certificate or security policy` : undefined;
    }),
    violation: { base: 'prod-us-east-1', patch: [{ type: LISTENER, name: 'onnx-fleet-alb-https', set: { sslPolicy: undefined } }] },
  },
  {
    id: 'alb-access-logs-bucket',
    resourceTypes: [LB, SSE],
    resource: 'ALB access logs bucket',
    setting: 'access_logs.s3.bucket, access_logs.s3.prefix',
    rule: 'The access log bucket is encrypted with SSE-S3 (the only server-side encryption ALB log delivery supports) and the prefix does not contain AWSLogs.',
    sources: ['https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html', 'https://github.com/aws/aws-cdk/issues/21947'],
    keys: ['environment'],
    checkGraph: eachResource([LB], (i, _r, all) => {
      const logs = i.accessLogs;
      if (!logs?.enabled) return undefined;
      if (String(logs.prefix ?? '').includes('AWSLogs')) return `access log prefix ${logs.prefix} contains AWSLogs`;
      const bucket = bucketNamed(all, logs.bucket);
      const sse = all.find((r) => r.type === SSE && inputsOf(r).bucket === logs.bucket);
      const algo = sse ? inputsOf(sse).rules?.[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm : undefined;
      return bucket && algo === 'AES256' ? undefined : `access log bucket ${logs.bucket} is encrypted with ${algo ?? 'nothing known'}, expected AES256 (SSE-S3)`;
    }),
    violation: { base: 'prod-us-east-1', patch: [{ type: SSE, name: 'onnx-fleet-logs', set: { 'rules.0.applyServerSideEncryptionByDefault.sseAlgorithm': 'aws:kms' } }] },
  },
];

