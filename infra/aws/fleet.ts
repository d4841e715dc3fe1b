/**
 * The runtime fleet: a launch template (IMDSv2 only, encrypted EBS, no public address, detailed
 * monitoring, the instance role, the bootstrap user data) and the Auto Scaling group behind the
 * load balancer. Instances failing the load balancer's health checks are replaced (ELB health
 * checks); a changed AMI, bundle or template is a new template version (never a model release:
 * models are data in the model store, which every runtime polls) that the release step (FleetRelease) rolls through the group with checkpoints and rolls back when alarms
 * fire or instances fail; capacity follows the runtime's saturation signal, request count and CPU.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { SATURATION_METRIC, STARTUP_BUDGET_SECONDS } from '../../runtime/contract';
import type { ScalingConfig, SpotConfig } from '../config';
import { FleetRelease } from './fleet-release';
import { STACK_TAG_KEY } from './instance-role';
import { RELEASE_DEFAULTS } from './release/release-plan';

export interface FleetArgs {
  region: string;
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  instanceProfileArn: pulumi.Input<string>;
  instanceType: string;
  /** Pinned AMI id (validated by the config schema; never an SSM parameter). */
  amiId: string;
  userData: pulumi.Input<string>;
  targetGroupArn: pulumi.Input<string>;
  /** `<alb arn suffix>/<target group arn suffix>`, for the request-count target tracking. */
  requestCountResourceLabel: pulumi.Input<string>;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  spot?: SpotConfig;
  warmPool?: { enabled: boolean; minSize: number };
  scaling: ScalingConfig;
  /** CloudWatch alarms that stop a release and roll it back. */
  rollbackAlarmNames: pulumi.Input<string>[];
  /** What the group's first instances need in place (the model store's initial release). */
  dependsOn?: pulumi.Resource[];
  stackTag: string;
  /** Root volume size, GiB. Default 30. */
  volumeSizeGb?: number;
  tags?: Record<string, string>;
}

/**
 * The launch lifecycle hook every new instance waits in (Pending:Wait, not yet registered with
 * the load balancer) until its readiness gate completes it (see user-data.ts).
 */
export const LAUNCH_HOOK_NAME = 'onnx-fleet-ready';

export const FLEET_DEFAULTS = {
  volumeSizeGb: 30,
  /** Download, verify and unpack of bundle and models before the runtime starts, on top of STARTUP_BUDGET_SECONDS. */
  bootstrapSeconds: 300,
  /** Instance maintenance (replacing unhealthy instances) keeps the release's capacity bounds. */
  minHealthyPercentage: RELEASE_DEFAULTS.minHealthyPercentage,
  maxHealthyPercentage: RELEASE_DEFAULTS.maxHealthyPercentage,
};

/** Group properties `pulumi up` leaves alone once the group exists (see the group's options). */
export const FLEET_GROUP_IGNORED_CHANGES = ['desiredCapacity', 'launchTemplate', 'mixedInstancesPolicy'] as const;

export class Fleet extends pulumi.ComponentResource {
  readonly launchTemplate: aws.ec2.LaunchTemplate;
  readonly group: aws.autoscaling.Group;
  /** The release step: rolls each new template version out and back. */
  readonly release: FleetRelease;
  readonly policies: aws.autoscaling.Policy[] = [];
  readonly schedules: aws.autoscaling.Schedule[] = [];

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:Fleet', name, {}, opts);
    const parent = { parent: this };
    const d = FLEET_DEFAULTS;
    if (args.maxSize < args.minSize) throw new Error(`Fleet ${name}: maxSize ${args.maxSize} < minSize ${args.minSize}`);
    const tags = { ...(args.tags ?? {}), [STACK_TAG_KEY]: args.stackTag };

    this.launchTemplate = new aws.ec2.LaunchTemplate(
      name,
      {
        imageId: args.amiId,
        instanceType: args.instanceType,
        userData: pulumi.output(args.userData).apply((u) => Buffer.from(u).toString('base64')),
        iamInstanceProfile: { arn: args.instanceProfileArn },
        metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'enabled' },
        monitoring: { enabled: true },
        ebsOptimized: 'true',
        networkInterfaces: [{ associatePublicIpAddress: 'false', deleteOnTermination: 'true', securityGroups: [args.securityGroupId] }],
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: args.volumeSizeGb ?? d.volumeSizeGb, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } }],
        updateDefaultVersion: true,
        tagSpecifications: [
          { resourceType: 'instance', tags: { ...tags, Name: name } },
          { resourceType: 'volume', tags },
        ],
        tags,
      },
      parent,
    );

    const templateRef = { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply((v) => String(v)) };
    const spot = args.spot?.enabled ? args.spot : undefined;
    this.group = new aws.autoscaling.Group(
      name,
      {
        vpcZoneIdentifiers: args.subnetIds,
        minSize: args.minSize,
        maxSize: args.maxSize,
        desiredCapacity: args.desiredCapacity,
        // Replace instances the load balancer finds unhealthy, but not while they load and warm models.
        healthCheckType: 'ELB',
        healthCheckGracePeriod: STARTUP_BUDGET_SECONDS,
        defaultInstanceWarmup: STARTUP_BUDGET_SECONDS,
        targetGroupArns: [args.targetGroupArn],
        // New instances join the target group only once the runtime is ready (user data completes
        // the hook): no unhealthy targets while models load, so the unhealthy-host alarm that
        // gates instance refreshes means a bad deploy, not a slow start. Out of time = ABANDON.
        initialLifecycleHooks: [
          {
            name: LAUNCH_HOOK_NAME,
            lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
            heartbeatTimeout: STARTUP_BUDGET_SECONDS + d.bootstrapSeconds,
            defaultResult: 'ABANDON',
          },
        ],
        waitForCapacityTimeout: `${STARTUP_BUDGET_SECONDS + d.bootstrapSeconds + 300}s`,
        capacityRebalance: spot ? true : undefined,
        launchTemplate: spot ? undefined : templateRef,
        mixedInstancesPolicy: spot
          ? {
              instancesDistribution: {
                onDemandBaseCapacity: spot.onDemandBase,
                onDemandPercentageAboveBaseCapacity: spot.onDemandPercentage,
                spotAllocationStrategy: 'price-capacity-optimized',
              },
              launchTemplate: { launchTemplateSpecification: { launchTemplateId: templateRef.id, version: templateRef.version }, overrides: spot.instanceTypes.map((t) => ({ instanceType: t })) },
            }
          : undefined,
        warmPool: args.warmPool?.enabled ? { poolState: 'Stopped', minSize: args.warmPool.minSize, instanceReusePolicy: { reuseOnScaleIn: true } } : undefined,
        instanceMaintenancePolicy: { minHealthyPercentage: d.minHealthyPercentage, maxHealthyPercentage: d.maxHealthyPercentage },
        enabledMetrics: ['GroupInServiceInstances', 'GroupDesiredCapacity', 'GroupPendingInstances', 'GroupTerminatingInstances'],
        metricsGranularity: '1Minute',
        tags: Object.entries({ ...tags, Name: name }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      },
      {
        parent: this,
        // Autoscaling owns the desired count once the group exists; `pulumi up` must not fight it.
        // The release step owns what the group launches once it exists: a new template version (or
        // spot mix) reaches the group only through FleetRelease's instance refresh, which AWS writes
        // onto the group when the release is healthy. Were these not ignored, `pulumi up` would set
        // the new version on the group before any refresh (hashicorp/terraform-provider-aws #34189)
        // and a later `pulumi up` would write the version from its own state back over the one the
        // release step put there.
        ignoreChanges: [...FLEET_GROUP_IGNORED_CHANGES],
        dependsOn: args.dependsOn,
      },
    );

    this.release = new FleetRelease(`${name}-release`, {
      region: args.region,
      groupName: this.group.name,
      launchTemplateId: this.launchTemplate.id,
      launchTemplateVersion: this.launchTemplate.latestVersion,
      alarmNames: args.rollbackAlarmNames,
      instanceWarmupSeconds: STARTUP_BUDGET_SECONDS,
      mixedInstances: spot && { instanceTypes: spot.instanceTypes, onDemandBase: spot.onDemandBase, onDemandPercentage: spot.onDemandPercentage },
    }, parent);

    const groupName = this.group.name;
    this.policies.push(
      // The runtime's own saturation signal ((in-flight + queued) / workers), published by every
      // instance at 10 s resolution (runtime/cloudwatch-publisher.ts): averaged over the group and
      // read with a 10 s period, the fastest target tracking reacts; a burst shows in it at once.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/policy-creating-high-resolution-metrics.html
      new aws.autoscaling.Policy(`${name}-saturation`, {
        autoscalingGroupName: groupName,
        policyType: 'TargetTrackingScaling',
        targetTrackingConfiguration: {
          customizedMetricSpecification: {
            namespace: SATURATION_METRIC.namespace,
            metricName: SATURATION_METRIC.saturation,
            metricDimensions: [{ name: SATURATION_METRIC.groupDimension, value: groupName }],
            statistic: 'Average',
            period: SATURATION_METRIC.periodSeconds,
          },
          targetValue: args.scaling.saturationTarget,
          // Scale-out only. Target tracking sizes the group as ceil(n × metric / target), which assumes
          // a metric proportional to load per instance; queue depth is not (it is near 0 until an
          // instance nears its capacity), so a scale-in computed from it overshoots and the group
          // oscillates (onnx-fleet simulate, diurnal trace). Scale-in follows request count and CPU.
          disableScaleIn: true,
        },
      }, parent),
      new aws.autoscaling.Policy(`${name}-requests`, {
        autoscalingGroupName: groupName,
        policyType: 'TargetTrackingScaling',
        targetTrackingConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: 'ALBRequestCountPerTarget', resourceLabel: args.requestCountResourceLabel },
          targetValue: args.scaling.requestsPerTarget,
        },
      }, parent),
      new aws.autoscaling.Policy(`${name}-cpu`, {
        autoscalingGroupName: groupName,
        policyType: 'TargetTrackingScaling',
        targetTrackingConfiguration: { predefinedMetricSpecification: { predefinedMetricType: 'ASGAverageCPUUtilization' }, targetValue: args.scaling.cpuTarget },
      }, parent),
    );
    if (args.scaling.predictive) {
      this.policies.push(
        new aws.autoscaling.Policy(`${name}-predictive`, {
          autoscalingGroupName: groupName,
          policyType: 'PredictiveScaling',
          predictiveScalingConfiguration: {
            mode: 'ForecastAndScale',
            schedulingBufferTime: String(STARTUP_BUDGET_SECONDS),
            maxCapacityBreachBehavior: 'HonorMaxCapacity',
            metricSpecification: { targetValue: args.scaling.cpuTarget, predefinedMetricPairSpecification: { predefinedMetricType: 'ASGCPUUtilization' } },
          },
        }, parent),
      );
    }
    for (const s of args.scaling.schedules) {
      this.schedules.push(
        new aws.autoscaling.Schedule(`${name}-${s.name}`, {
          autoscalingGroupName: groupName,
          scheduledActionName: s.name,
          recurrence: s.recurrence,
          timeZone: s.timeZone,
          minSize: s.minSize,
          maxSize: s.maxSize,
          desiredCapacity: s.desiredCapacity,
        }, parent),
      );
    }
    this.registerOutputs({ groupName, launchTemplateId: this.launchTemplate.id, releasedVersion: this.release.releasedVersion });
  }
}
