/**
 * The AWS target: every component of the platform composed from one validated stack config.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config';
import { amiLookupHint } from './ami';
import { Artifacts } from './artifacts';
import { Dashboard } from './dashboard';
import { dataKeyPolicy } from './data-key-policy';
import { Fleet, LAUNCH_HOOK_NAME } from './fleet';
import { InstanceRole } from './instance-role';
import { LoadBalancer } from './load-balancer';
import { LogSink } from './log-sink';
import { ModelStore } from './model-store';
import { Monitoring } from './monitoring';
import { Network } from './network';
import { ReplicatedDatabase } from './replicated-database';
import { ShardedStorage } from './sharded-storage';
import { renderUserData } from './user-data';

export interface AwsPlatformArgs {
  config: StackConfig;
  /** Stack name, used to tag and scope what instances may touch. */
  stack: string;
}

/** The schema requires a pinned AMI on the AWS target; a config built by hand must have one too. */
function requireAmiId(c: StackConfig): string {
  if (!c.amiId) throw new Error(`onnx-fleet:amiId: missing, expected an AMI id pinned in the stack config; ${amiLookupHint(c.region, c.arch)}`);
  return c.amiId;
}

export class AwsPlatform extends pulumi.ComponentResource {
  readonly albDnsName: pulumi.Output<string>;
  readonly writerEndpoint: pulumi.Output<string>;
  /** The Aurora reader endpoint, or nothing when the cluster has no readers (dev). */
  readonly readerEndpoint: pulumi.Output<string | undefined>;
  readonly shardBuckets: pulumi.Output<string[]>;
  readonly artifactBucket: pulumi.Output<string>;
  /** The model store every runtime polls (`s3://bucket/prefix?region=…`): what `onnx-fleet models --model-repository` takes. */
  readonly modelStore: pulumi.Output<string>;
  readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, args: AwsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:Platform', name, {}, opts);
    const c = args.config;
    const prod = c.environment === 'prod';
    const tags = { 'onnx-fleet:environment': c.environment, 'onnx-fleet:stack': args.stack };
    const parent = { parent: this };

    const key = new aws.kms.Key(`${name}-data`, { description: `onnx-fleet ${args.stack}: S3, RDS, Secrets Manager, SNS`, enableKeyRotation: true, deletionWindowInDays: prod ? 30 : 7, policy: dataKeyPolicy(parent), tags }, parent);
    const network = new Network(`${name}-net`, { availabilityZones: c.availabilityZones, cidrBlock: c.vpcCidr, natGateways: c.natGateways, region: c.region, tags }, parent);
    // Staging and prod keep S3 server access logs (and prod the ALB's access logs) in a log sink.
    const sink = c.environment === 'dev' ? undefined : new LogSink(`${name}-logs`, { region: c.region, tags }, parent);
    const storage = new ShardedStorage(`${name}-shard`, { shards: c.shards, kmsKeyArn: key.arn, accessLogs: sink?.serverAccessLogs, tags }, parent);
    const artifacts = new Artifacts(`${name}-artifacts`, { kmsKeyArn: key.arn, bundleFile: c.runtimeBundle, accessLogs: sink?.serverAccessLogs, tags }, parent);
    const store = new ModelStore(`${name}-models`, {
      region: c.region,
      kmsKeyArn: key.arn,
      existing: c.modelStore.location ? { location: c.modelStore.location, kmsKeyArn: c.modelStore.kmsKeyArn } : undefined,
      noncurrentDays: c.modelStore.noncurrentDays,
      initialRelease: c.modelRepository,
      accessLogs: sink?.serverAccessLogs,
      tags,
    }, parent);
    const database = new ReplicatedDatabase(`${name}-db`, {
      subnetIds: network.privateSubnets.map((s) => s.id),
      securityGroupId: network.databaseSecurityGroup.id,
      kmsKeyArn: key.arn,
      availabilityZones: c.availabilityZones,
      ...c.database,
      protect: prod,
      tags,
    }, parent);
    const lb = new LoadBalancer(`${name}-alb`, {
      vpcId: network.vpc.id,
      subnetIds: network.publicSubnets.map((s) => s.id),
      securityGroupId: network.albSecurityGroup.id,
      region: c.region,
      algorithm: c.loadBalancingAlgorithm,
      certificateArn: c.certificateArn,
      canaryWeight: c.canaryWeight,
      deletionProtection: prod,
      accessLogBucket: prod ? sink?.bucket.bucket : undefined,
      tags,
    }, parent);
    const role = new InstanceRole(`${name}-instance`, {
      artifactBucketArn: artifacts.bucket.arn,
      shardBucketArns: storage.shardArns,
      databaseSecretArn: database.secretArn,
      kmsKeyArn: key.arn,
      modelStore: { bucketArn: store.bucketArn, prefix: store.prefix, kmsKeyArn: store.foreignKmsKeyArn },
      region: c.region,
      stackTag: args.stack,
      tags,
    }, parent);
    const monitoring = new Monitoring(`${name}-monitoring`, {
      albArnSuffix: lb.alb.arnSuffix,
      targetGroupArnSuffix: lb.targetGroup.arnSuffix,
      database: { clusterIdentifier: database.clusterIdentifier, readerIdentifiers: database.readers.map((r) => r.identifier) },
      kmsKeyArn: key.arn,
      latencyP99Seconds: c.latencyP99AlarmSeconds,
      alarmEmail: c.alarmEmail,
      tags,
    }, parent);

    const userData = pulumi
      .all([artifacts.bucket.bucket, store.location, storage.shardNames, database.writerEndpoint, database.readerEndpoint, database.secretArn])
      .apply(([bucket, modelStore, shards, writer, reader, secretArn]) =>
        renderUserData({
          region: c.region,
          artifactBucket: bucket,
          bundle: artifacts.bundle,
          // Only where models come from and how the runtime follows it: a model release changes none of this.
          models: { location: modelStore, controlMode: c.modelControlMode, pollSecs: c.repositoryPollSecs },
          shardBuckets: shards,
          // Writes go to the cluster endpoint, reads to the reader endpoint (none without readers: the runtime then reads from the writer).
          database: { writerHost: writer, readerHosts: c.database.readers > 0 ? [reader] : [], name: database.databaseName, secretArn },
          launchHookName: LAUNCH_HOOK_NAME,
        }),
      );
    const fleetArgs = (targetGroup: aws.lb.TargetGroup, minSize: number, maxSize: number, desired: number) => ({
      region: c.region,
      subnetIds: network.privateSubnets.map((s) => s.id),
      securityGroupId: network.instanceSecurityGroup.id,
      instanceProfileArn: role.profile.arn,
      instanceType: c.instanceType,
      amiId: requireAmiId(c),
      userData,
      targetGroupArn: targetGroup.arn,
      requestCountResourceLabel: pulumi.interpolate`${lb.alb.arnSuffix}/${targetGroup.arnSuffix}`,
      minSize,
      maxSize,
      desiredCapacity: desired,
      spot: c.spot,
      warmPool: c.warmPool,
      scaling: c.scaling,
      rollbackAlarmNames: monitoring.rollbackAlarmNames,
      // A first boot reads the current release from the store: launch after the initial one is there.
      dependsOn: store.seed ? [store.seed] : [],
      stackTag: args.stack,
      tags,
    });
    const fleet = new Fleet(`${name}-fleet`, fleetArgs(lb.targetGroup, c.minSize, c.maxSize, c.desiredCapacity), parent);
    monitoring.watchModelReleases('', fleet.group.name);
    if (lb.canaryTargetGroup) {
      // The canary fleet runs the same template; deploy a candidate by pointing its stack at a new bundle.
      const canaryFleet = new Fleet(`${name}-canary`, { ...fleetArgs(lb.canaryTargetGroup, 1, Math.max(1, Math.ceil(c.maxSize / 4)), 1), warmPool: undefined, scaling: { ...c.scaling, predictive: false, schedules: [] } }, parent);
      monitoring.watchModelReleases('canary-fleet-', canaryFleet.group.name);
    }
    const dashboard = new Dashboard(`${name}-dashboard`, { region: c.region, albArnSuffix: lb.alb.arnSuffix, targetGroupArnSuffix: lb.targetGroup.arnSuffix, autoscalingGroupName: fleet.group.name, databaseClusterIdentifier: database.clusterIdentifier, databaseReaderIdentifiers: database.readers.map((r) => r.identifier) }, parent);

    this.albDnsName = lb.dnsName;
    this.writerEndpoint = database.writerEndpoint;
    this.readerEndpoint = c.database.readers > 0 ? database.readerEndpoint : pulumi.output(undefined);
    this.shardBuckets = storage.shardNames;
    this.artifactBucket = artifacts.bucket.bucket;
    this.modelStore = store.location;
    this.dashboardName = dashboard.dashboard.dashboardName;
    this.registerOutputs({ albDnsName: this.albDnsName, writerEndpoint: this.writerEndpoint, readerEndpoint: this.readerEndpoint, shardBuckets: this.shardBuckets, artifactBucket: this.artifactBucket, modelStore: this.modelStore, dashboardName: this.dashboardName });
  }
}
