/**
 * The Application Load Balancer: listeners (HTTPS with an HTTP→HTTPS redirect when a certificate
 * is configured), the target group whose health check is the runtime's contract, and an optional
 * weighted canary target group.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { DEFAULT_PORT, DRAIN_DELAY_SECONDS, EXIT_TIMEOUT_SECONDS, HEALTH_CHECK, LOAD_BALANCER_IDLE_TIMEOUT_SECONDS } from '../../runtime/contract';
import type { Algorithm } from '../config';

/** AWS accounts that deliver ALB access logs, per region (the regions the stacks may use). */
const ELB_LOG_ACCOUNTS: Record<string, string> = {
  'us-east-1': '127311923021', 'us-east-2': '033677994240', 'us-west-1': '027434742980', 'us-west-2': '797873946194',
  'eu-west-1': '156460612806', 'eu-west-3': '009996457667', 'eu-central-1': '054676820928', 'eu-north-1': '897822967062',
  'ap-southeast-1': '114774131450', 'ap-northeast-1': '582318560864', 'sa-east-1': '507241528517',
};

export interface LoadBalancerArgs {
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  region: string;
  algorithm: Algorithm;
  certificateArn?: string;
  /** Percentage of requests for the canary target group (0 = none). */
  canaryWeight: number;
  deletionProtection: boolean;
  /** Bucket for access logs (SSE-S3: ALB log delivery cannot use KMS); absent = no access logs. */
  accessLogBucket?: pulumi.Input<string>;
  /** Default: drain delay + exit timeout, so in-flight requests finish before the target is dropped. */
  deregistrationDelaySeconds?: number;
  /** Default 30 s ramp-up for new targets (not available with weighted_random). */
  slowStartSeconds?: number;
  tags?: Record<string, string>;
}

export const LOAD_BALANCER_DEFAULTS = {
  deregistrationDelaySeconds: DRAIN_DELAY_SECONDS + EXIT_TIMEOUT_SECONDS,
  slowStartSeconds: 30,
  idleTimeoutSeconds: LOAD_BALANCER_IDLE_TIMEOUT_SECONDS,
  sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
};

export function accessLogStatements(region: string) {
  const account = ELB_LOG_ACCOUNTS[region];
  return (arn: pulumi.Output<string>): aws.iam.PolicyStatement[] => [
    { Sid: 'ElbLogDelivery', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 's3:PutObject', Resource: pulumi.interpolate`${arn}/alb/*` },
  ];
}

export class LoadBalancer extends pulumi.ComponentResource {
  readonly alb: aws.lb.LoadBalancer;
  readonly targetGroup: aws.lb.TargetGroup;
  readonly canaryTargetGroup?: aws.lb.TargetGroup;
  readonly listeners: aws.lb.Listener[] = [];
  readonly dnsName: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:LoadBalancer', name, {}, opts);
    const parent = { parent: this };
    const d = LOAD_BALANCER_DEFAULTS;
    const deregistration = args.deregistrationDelaySeconds ?? d.deregistrationDelaySeconds;
    if (deregistration < DRAIN_DELAY_SECONDS) throw new Error(`LoadBalancer ${name}: deregistrationDelaySeconds ${deregistration} is shorter than the runtime's drain delay (${DRAIN_DELAY_SECONDS} s)`);

    this.alb = new aws.lb.LoadBalancer(
      name,
      {
        loadBalancerType: 'application',
        internal: false,
        securityGroups: [args.securityGroupId],
        subnets: args.subnetIds,
        dropInvalidHeaderFields: true,
        desyncMitigationMode: 'defensive',
        enableDeletionProtection: args.deletionProtection,
        enableHttp2: true,
        idleTimeout: d.idleTimeoutSeconds,
        accessLogs: args.accessLogBucket ? { bucket: args.accessLogBucket, prefix: 'alb', enabled: true } : undefined,
        tags: args.tags,
      },
      parent,
    );

    const weighted = args.algorithm === 'weighted_random';
    const targetGroup = (suffix: string) =>
      new aws.lb.TargetGroup(
        `${name}-${suffix}`,
        {
          vpcId: args.vpcId,
          port: DEFAULT_PORT,
          protocol: 'HTTP',
          targetType: 'instance',
          deregistrationDelay: deregistration,
          // AWS refuses slow start together with weighted_random.
          slowStart: weighted ? 0 : args.slowStartSeconds ?? d.slowStartSeconds,
          loadBalancingAlgorithmType: args.algorithm,
          loadBalancingAnomalyMitigation: weighted ? 'on' : undefined,
          healthCheck: {
            enabled: true,
            path: HEALTH_CHECK.path,
            port: 'traffic-port',
            protocol: 'HTTP',
            interval: HEALTH_CHECK.intervalSeconds,
            timeout: HEALTH_CHECK.timeoutSeconds,
            healthyThreshold: HEALTH_CHECK.healthyThreshold,
            unhealthyThreshold: HEALTH_CHECK.unhealthyThreshold,
            matcher: HEALTH_CHECK.successCodes,
          },
          tags: args.tags,
        },
        parent,
      );
    this.targetGroup = targetGroup('runtime');
    if (args.canaryWeight > 0) this.canaryTargetGroup = targetGroup('canary');

    const forward: aws.types.input.lb.ListenerDefaultAction = this.canaryTargetGroup
      ? {
          type: 'forward',
          forward: {
            targetGroups: [
              { arn: this.targetGroup.arn, weight: 100 - args.canaryWeight },
              { arn: this.canaryTargetGroup.arn, weight: args.canaryWeight },
            ],
            stickiness: { enabled: false, duration: 1 },
          },
        }
      : { type: 'forward', targetGroupArn: this.targetGroup.arn };

    if (args.certificateArn) {
      this.listeners.push(
        new aws.lb.Listener(`${name}-https`, { loadBalancerArn: this.alb.arn, port: 443, protocol: 'HTTPS', sslPolicy: d.sslPolicy, certificateArn: args.certificateArn, defaultActions: [forward], tags: args.tags }, parent),
        new aws.lb.Listener(`${name}-http`, { loadBalancerArn: this.alb.arn, port: 80, protocol: 'HTTP', defaultActions: [{ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }], tags: args.tags }, parent),
      );
    } else {
      this.listeners.push(new aws.lb.Listener(`${name}-http`, { loadBalancerArn: this.alb.arn, port: 80, protocol: 'HTTP', defaultActions: [forward], tags: args.tags }, parent));
    }
    this.dnsName = this.alb.dnsName;
    this.registerOutputs({ dnsName: this.dnsName, targetGroupArn: this.targetGroup.arn });
  }
}
