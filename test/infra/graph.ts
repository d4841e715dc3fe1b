/**
 * Shared checks for the stack graph tests: synthesise a stack under Pulumi mocks (one stack per
 * test file: Pulumi keeps global state per module registry) and assert the platform's invariants.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FLEET_DEFAULTS, LAUNCH_HOOK_NAME } from '../../infra/aws/fleet';
import { desiredTemplate, isNumberedVersion, preferenceViolations, rollbackViolations } from '../../infra/aws/release/instance-refresh-rules';
import { RELEASE_DEFAULTS } from '../../infra/aws/release/release-plan';
import { parseStackConfig, StackConfig } from '../../infra/config';
import { checkPolicies } from '../../infra/policies';
import { readStackFile } from '../../infra/synth';
import { ResourceRecord, runProgramUnderMocks } from '../../infra/testing/mock-run';
import {
  DEFAULT_PORT,
  DRAIN_DELAY_SECONDS,
  EXIT_TIMEOUT_SECONDS,
  HEALTH_CHECK,
  HEALTH_LIVE_PATH,
  HEALTH_READY_PATH,
  KEEP_ALIVE_TIMEOUT_SECONDS,
  LOAD_BALANCER_IDLE_TIMEOUT_SECONDS,
  SATURATION_METRIC,
  STARTUP_BUDGET_SECONDS,
} from '../../runtime/contract';
import { parseS3Location } from '../../runtime/s3-location';

export const STACKS_DIR = path.resolve(__dirname, '..', '..', 'stacks');

export function stackNames(): string[] {
  return fs.readdirSync(STACKS_DIR).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice('Pulumi.'.length, -'.yaml'.length)).sort();
}

/** The graph tests are about the graph: a small stand-in file is uploaded instead of a built bundle. */
export function testBundle(): string {
  const file = path.join(os.tmpdir(), 'onnx-fleet-graph-test-bundle.tar.gz');
  fs.writeFileSync(file, 'runtime bundle placeholder for graph tests\n');
  return file;
}

export async function synthStack(stack: string): Promise<{ config: StackConfig; resources: ResourceRecord[] }> {
  const raw = { ...readStackFile(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`)), 'onnx-fleet:runtimeBundle': testBundle() };
  const resources = await runProgramUnderMocks(raw, stack);
  return { config: parseStackConfig(raw), resources };
}

const ofType = (rs: ResourceRecord[], type: string) => rs.filter((r) => r.type === type);
const one = (rs: ResourceRecord[], type: string, name?: string) => {
  const found = ofType(rs, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0];
};
const inputs = (r: ResourceRecord) => r.inputs as Record<string, any>;
/** The store's bucket and prefix: the configured location, or the bucket the stack creates (its mock name). */
const modelStoreOf = (config: StackConfig) => (config.modelStore.location ? parseS3Location(config.modelStore.location, 'model store', {}) : { bucket: 'onnx-fleet-models-bucket', prefix: 'models/' });

/** Declares the invariant tests for one stack file. */
export function describeStack(stack: string): void {
  let config: StackConfig;
  let resources: ResourceRecord[];
  beforeAll(async () => {
    ({ config, resources } = await synthStack(stack));
  }, 60_000);

  test('every in-repo policy passes', () => {
    expect(checkPolicies(resources)).toEqual([]);
  });

  test('every resource is parented to a component, named from it', () => {
    const top = resources.filter((r) => r.parent === null);
    expect(top.map((r) => r.type)).toEqual([config.platform === 'aws' ? 'onnx-fleet:aws:Platform' : 'onnx-fleet:kubernetes:Platform']);
    for (const r of resources.filter((x) => x.parent !== null)) expect(r.name.startsWith(r.parent!)).toBe(true);
  });

  if (stack.endsWith('k8s')) {
    describeKubernetes(() => ({ config, resources }));
    return;
  }

  test('target groups check the runtime ready path on its port, with the contract timing', () => {
    const groups = ofType(resources, 'aws:lb/targetGroup:TargetGroup');
    expect(groups.length).toBe(config.canaryWeight > 0 ? 2 : 1);
    for (const tg of groups) {
      const i = inputs(tg);
      expect(i.port).toBe(DEFAULT_PORT);
      expect(i.healthCheck).toMatchObject({
        path: HEALTH_READY_PATH,
        port: 'traffic-port',
        interval: HEALTH_CHECK.intervalSeconds,
        timeout: HEALTH_CHECK.timeoutSeconds,
        healthyThreshold: HEALTH_CHECK.healthyThreshold,
        unhealthyThreshold: HEALTH_CHECK.unhealthyThreshold,
        matcher: HEALTH_CHECK.successCodes,
      });
      expect(i.deregistrationDelay).toBeGreaterThanOrEqual(DRAIN_DELAY_SECONDS);
      expect(i.deregistrationDelay).toBe(DRAIN_DELAY_SECONDS + EXIT_TIMEOUT_SECONDS);
      expect(i.loadBalancingAlgorithmType).toBe(config.loadBalancingAlgorithm);
      if (config.loadBalancingAlgorithm === 'weighted_random') {
        expect(i.loadBalancingAnomalyMitigation).toBe('on');
        expect(i.slowStart).toBe(0);
      } else expect(i.slowStart).toBeGreaterThan(0);
    }
  });

  test('listeners: HTTPS with a redirect when a certificate is set, weighted canary forwarding', () => {
    const listeners = ofType(resources, 'aws:lb/listener:Listener').map(inputs);
    const forward = config.certificateArn ? listeners.find((l) => l.port === 443)! : listeners.find((l) => l.port === 80)!;
    if (config.certificateArn) {
      expect(forward).toMatchObject({ protocol: 'HTTPS', certificateArn: config.certificateArn });
      expect(listeners.find((l) => l.port === 80)!.defaultActions[0]).toMatchObject({ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443' } });
    } else expect(listeners).toHaveLength(1);
    if (config.canaryWeight > 0) {
      expect(forward.defaultActions[0].forward.targetGroups.map((t: any) => t.weight)).toEqual([100 - config.canaryWeight, config.canaryWeight]);
    }
    const alb = inputs(one(resources, 'aws:lb/loadBalancer:LoadBalancer'));
    expect(alb.enableDeletionProtection).toBe(config.environment === 'prod');
    expect(Boolean(alb.accessLogs?.enabled)).toBe(config.environment === 'prod');
    // The ALB closes idle connections before the runtime does (the runtime's keep-alive is longer).
    expect(alb.idleTimeout).toBe(LOAD_BALANCER_IDLE_TIMEOUT_SECONDS);
    expect(KEEP_ALIVE_TIMEOUT_SECONDS).toBeGreaterThan(alb.idleTimeout);
  });

  test('the fleet spans ≥ 2 zones in private subnets, replaced on failed ELB checks, desired capacity left to autoscaling', () => {
    const privateIds = ofType(resources, 'aws:ec2/subnet:Subnet').filter((s) => s.name.includes('-private-')).map((s) => `${s.name}-id`);
    for (const group of ofType(resources, 'aws:autoscaling/group:Group')) {
      const i = inputs(group);
      expect(i.vpcZoneIdentifiers.length).toBeGreaterThanOrEqual(2);
      expect(i.vpcZoneIdentifiers.every((id: string) => privateIds.includes(id))).toBe(true);
      expect(i.healthCheckType).toBe('ELB');
      expect(i.healthCheckGracePeriod).toBe(STARTUP_BUDGET_SECONDS);
      expect(i.defaultInstanceWarmup).toBe(STARTUP_BUDGET_SECONDS);
      // No instanceRefresh block: the provider would store the new template on the group first and
      // then refresh, so "rollback" restores the failed release (hashicorp/terraform-provider-aws #34189).
      expect(i.instanceRefresh).toBeUndefined();
      // pulumi up never re-applies the template version (or spot mix) the release step manages.
      expect(group.ignoreChanges).toEqual(['desiredCapacity', 'launchTemplate', 'mixedInstancesPolicy']);
      // New instances join the target group only once ready: the launch hook waits for the gate in user data.
      expect(i.initialLifecycleHooks).toEqual([
        { name: LAUNCH_HOOK_NAME, lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: STARTUP_BUDGET_SECONDS + FLEET_DEFAULTS.bootstrapSeconds, defaultResult: 'ABANDON' },
      ]);
      const template = i.launchTemplate ?? i.mixedInstancesPolicy.launchTemplate.launchTemplateSpecification;
      expect(String(template.version ?? template.version)).toBe('1'); // the template's latest version, not $Latest
      expect(Boolean(i.mixedInstancesPolicy)).toBe(config.spot.enabled);
      expect(Boolean(i.capacityRebalance)).toBe(config.spot.enabled);
    }
    const main = inputs(one(resources, 'aws:autoscaling/group:Group', 'onnx-fleet-fleet'));
    expect([main.minSize, main.maxSize]).toEqual([config.minSize, config.maxSize]);
    expect(Boolean(main.warmPool)).toBe(config.warmPool.enabled);
  });

  test('scaling: every group tracks the saturation signal (10 s high-resolution, group average), request count and CPU at the stack\'s targets', () => {
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/policy-creating-high-resolution-metrics.html
    for (const group of ofType(resources, 'aws:autoscaling/group:Group')) {
      const policy = (suffix: string) => inputs(one(resources, 'aws:autoscaling/policy:Policy', `${group.name}-${suffix}`));
      const saturation = policy('saturation');
      expect(saturation.policyType).toBe('TargetTrackingScaling');
      expect(saturation.targetTrackingConfiguration).toEqual({
        customizedMetricSpecification: {
          namespace: SATURATION_METRIC.namespace,
          metricName: 'onnx_fleet_saturation',
          metricDimensions: [{ name: 'AutoScalingGroupName', value: inputs(group).name ?? expect.any(String) }],
          statistic: 'Average',
          period: 10,
        },
        targetValue: config.scaling.saturationTarget,
        disableScaleIn: true,
      });
      expect(policy('requests').targetTrackingConfiguration).toMatchObject({ predefinedMetricSpecification: { predefinedMetricType: 'ALBRequestCountPerTarget' }, targetValue: config.scaling.requestsPerTarget });
      expect(policy('cpu').targetTrackingConfiguration).toMatchObject({ predefinedMetricSpecification: { predefinedMetricType: 'ASGAverageCPUUtilization' }, targetValue: config.scaling.cpuTarget });
    }
    const main = inputs(one(resources, 'aws:autoscaling/group:Group', 'onnx-fleet-fleet'));
    if (config.warmPool.enabled) expect(main.warmPool).toEqual({ poolState: 'Stopped', minSize: config.warmPool.minSize, instanceReusePolicy: { reuseOnScaleIn: true } });
  });

  test('every group has a release step: its own template at a numbered version, auto rollback on the gating alarms, checkpoints', () => {
    const groups = ofType(resources, 'aws:autoscaling/group:Group');
    const releases = ofType(resources, 'pulumi-nodejs:dynamic/fleet:Release');
    expect(releases).toHaveLength(groups.length);
    const gating = ['unhealthy-hosts', '5xx-rate'].map((a) => `${one(resources, 'aws:cloudwatch/metricAlarm:MetricAlarm', `onnx-fleet-monitoring-${a}`).name}-alarm`);
    for (const group of groups) {
      const release = releases.find((r) => inputs(r).groupName === `${group.name}-asg`);
      expect(release).toBeDefined();
      const { desiredConfiguration: desired, preferences, region, __provider } = inputs(release!);
      expect(region).toBe(config.region);
      const template = desiredTemplate(desired)!;
      const lt = one(resources, 'aws:ec2/launchTemplate:LaunchTemplate', group.name);
      expect(template).toEqual({ LaunchTemplateId: `${lt.name}-id`, Version: '1' });
      expect(isNumberedVersion(template.Version)).toBe(true);
      expect(Boolean(desired.MixedInstancesPolicy)).toBe(config.spot.enabled);
      if (config.spot.enabled) expect(desired.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: any) => o.InstanceType)).toEqual(config.spot.instanceTypes);
      expect(preferences).toMatchObject({ AutoRollback: true, SkipMatching: true, CheckpointPercentages: RELEASE_DEFAULTS.checkpointPercentages, InstanceWarmup: STARTUP_BUDGET_SECONDS });
      expect(preferences.AlarmSpecification.Alarms).toEqual(gating);
      // AWS would start it and could roll it back (the same rules the simulation enforces).
      expect(preferenceViolations(preferences)).toEqual([]);
      expect(rollbackViolations(desired, preferences, { currentVersion: template.Version, currentImageId: inputs(lt).imageId, desiredImageId: inputs(lt).imageId })).toEqual([]);
      // Nothing else in the program points at the template: only the group (created on it) and its release step.
      const referencing = resources.filter((r) => r !== lt && JSON.stringify(r.inputs).includes(`"${lt.name}-id"`)).map((r) => r.type).sort();
      expect(referencing).toEqual(['aws:autoscaling/group:Group', 'pulumi-nodejs:dynamic/fleet:Release']);
      // The dynamic provider is serialized with the release logic in it.
      expect(typeof __provider).toBe('string');
      expect(__provider).toContain('startInstanceRefresh');
    }
  });

  test('launch template: IMDSv2 only, encrypted EBS, no public IP, detailed monitoring, instance profile, the bootstrap', () => {
    const lt = inputs(one(resources, 'aws:ec2/launchTemplate:LaunchTemplate', 'onnx-fleet-fleet'));
    expect(ofType(resources, 'aws:ec2/launchTemplate:LaunchTemplate')).toHaveLength(config.canaryWeight > 0 ? 2 : 1);
    expect(lt.metadataOptions).toMatchObject({ httpTokens: 'required', httpPutResponseHopLimit: 1 });
    expect(lt.blockDeviceMappings[0].ebs).toMatchObject({ encrypted: 'true' });
    expect(lt.networkInterfaces[0].associatePublicIpAddress).toBe('false');
    expect(lt.monitoring.enabled).toBe(true);
    expect(lt.iamInstanceProfile.arn).toBeTruthy();
    // A pinned AMI, never an SSM parameter: AWS cannot roll back to a template that resolves one
    // (EC2 Auto Scaling User Guide, "Undo changes with a manual or auto rollback").
    for (const t of ofType(resources, 'aws:ec2/launchTemplate:LaunchTemplate')) {
      expect(inputs(t).imageId).toBe(config.amiId);
      expect(inputs(t).imageId).toMatch(/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/);
    }
    expect(lt.instanceType).toBe(config.instanceType);
    const userData = Buffer.from(lt.userData, 'base64').toString();
    const bundleKey = inputs(one(resources, 'aws:s3/bucketObjectv2:BucketObjectv2', 'onnx-fleet-artifacts-bundle')).key;
    expect(bundleKey).toMatch(/^runtime\/[0-9a-f]{64}\//);
    expect(userData).toContain(`BUNDLE_KEY='${bundleKey}'`);
    expect(userData).toContain(HEALTH_READY_PATH);
    expect(userData).toContain(`ONNX_FLEET_DRAIN_DELAY_SECONDS=${DRAIN_DELAY_SECONDS}`);
    expect(userData).toContain('set-instance-health');
    expect(userData).toContain(`LAUNCH_HOOK='${LAUNCH_HOOK_NAME}'`);
    expect(userData).toContain('complete_launch CONTINUE');
    // Writes through the cluster endpoint (it follows failover), reads through the reader endpoint, credentials from the cluster's secret.
    expect(userData).toContain(`DB_WRITER_HOST='onnx-fleet-db.cluster-mock.rds.amazonaws.com'`);
    expect(userData).toContain(`DB_READER_HOSTS='${config.database.readers > 0 ? 'onnx-fleet-db.cluster-ro-mock.rds.amazonaws.com' : ''}'`);
    expect(userData).toContain(`DB_SECRET_ARN='arn:aws:secretsmanager:mock:000000000000:secret:rds!cluster-onnx-fleet-db'`);
    // Models come from the model store, followed in the stack's control mode: no model archive, no model digest.
    const { bucket, prefix } = modelStoreOf(config);
    const store = `s3://${bucket}/${prefix}`;
    expect(userData).toContain(`MODEL_STORE='${store}?region=${config.region}'`);
    expect(userData).toContain(`ONNX_FLEET_MODEL_CONTROL_MODE=${config.modelControlMode}\n`);
    expect(userData).toContain(`ONNX_FLEET_REPOSITORY_POLL_SECS=${config.repositoryPollSecs}\n`);
    expect(userData).not.toMatch(/models\.tar\.gz|MODELS_SHA256/);
    expect(ofType(resources, 'aws:s3/bucketObjectv2:BucketObjectv2').map((o) => o.name)).toEqual(['onnx-fleet-artifacts-bundle']);
  });

  test('model store: a hardened, versioned, KMS-encrypted bucket the stack creates (or the configured one), with noncurrent versions expiring', () => {
    const created = ofType(resources, 'aws:s3/bucket:Bucket').filter((b) => b.name === 'onnx-fleet-models');
    expect(created).toHaveLength(config.modelStore.location ? 0 : 1);
    if (config.modelStore.location) return;
    const sse = inputs(one(resources, 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'onnx-fleet-models'));
    expect(sse.rules[0]).toMatchObject({ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'arn:aws:mock:onnx-fleet-data' }, bucketKeyEnabled: true });
    expect(inputs(one(resources, 'aws:s3/bucketVersioning:BucketVersioning', 'onnx-fleet-models')).versioningConfiguration.status).toBe('Enabled');
    expect(inputs(one(resources, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'onnx-fleet-models'))).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    const lifecycle = inputs(one(resources, 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', 'onnx-fleet-models')).rules[0];
    // Published versions are never expired (no expiration of current objects); an overwritten release.json is kept for a while.
    expect(lifecycle.expiration).toBeUndefined();
    expect(lifecycle.noncurrentVersionExpiration).toEqual({ noncurrentDays: config.modelStore.noncurrentDays });
    expect(JSON.parse(inputs(one(resources, 'aws:s3/bucketPolicy:BucketPolicy', 'onnx-fleet-models')).policy).Statement[0]).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  test('the security-group chain is exactly internet → ALB (80/443) → instances (runtime port) → database (5432)', () => {
    const rules = [...ofType(resources, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule'), ...ofType(resources, 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule')]
      .map((r) => {
        const i = inputs(r);
        const dir = r.type.includes('Ingress') ? 'in' : 'out';
        const sg = String(i.securityGroupId).replace(/^onnx-fleet-net-|-id$/g, '');
        const peer = i.cidrIpv4 ?? String(i.referencedSecurityGroupId).replace(/^onnx-fleet-net-|-id$/g, '');
        return `${sg} ${dir} ${i.fromPort} ${peer}`;
      })
      .sort();
    expect(rules).toEqual(
      [
        'alb in 80 0.0.0.0/0',
        'alb in 443 0.0.0.0/0',
        `alb out ${DEFAULT_PORT} instances`,
        `instances in ${DEFAULT_PORT} alb`,
        'instances out 443 0.0.0.0/0',
        'instances out 5432 database',
        'database in 5432 instances',
      ].sort(),
    );
  });

  test('network: zones as configured, NAT per zone in prod, S3 endpoint', () => {
    expect(ofType(resources, 'aws:ec2/subnet:Subnet').filter((s) => s.name.includes('-private-')).map((s) => inputs(s).availabilityZone)).toEqual(config.availabilityZones);
    expect(ofType(resources, 'aws:ec2/natGateway:NatGateway')).toHaveLength(config.natGateways === 'perAz' ? config.availabilityZones.length : 1);
    if (config.environment === 'prod') expect(config.natGateways).toBe('perAz');
    expect(inputs(one(resources, 'aws:ec2/vpcEndpoint:VpcEndpoint'))).toMatchObject({ serviceName: `com.amazonaws.${config.region}.s3`, vpcEndpointType: 'Gateway' });
  });

  // AWS rejects RDS read replicas of a source whose password Secrets Manager manages ("Limitations for Secrets
  // Manager integration with Amazon RDS", RDS User Guide); an Aurora cluster's readers share the cluster's one
  // managed secret (Aurora User Guide, "Password management with Amazon Aurora and AWS Secrets Manager").
  test('database: an encrypted Aurora PostgreSQL cluster with a managed password, a writer and readers each in a zone of its own', () => {
    expect(ofType(resources, 'aws:rds/instance:Instance')).toEqual([]);
    const cluster = inputs(one(resources, 'aws:rds/cluster:Cluster'));
    expect(cluster).toMatchObject({ engine: 'aurora-postgresql', engineVersion: config.database.engineVersion, storageEncrypted: true, manageMasterUserPassword: true, deletionProtection: config.environment === 'prod' });
    expect(cluster.masterPassword).toBeUndefined();
    // The version is pinned, so RDS must not upgrade it by itself: off on the cluster and every instance
    // (Aurora User Guide, "Automatic minor version upgrades for Aurora DB clusters"); the parameter group's
    // family is the version's major (CreateDBClusterParameterGroup).
    expect(cluster.autoMinorVersionUpgrade).toBe(false);
    expect(inputs(one(resources, 'aws:rds/clusterParameterGroup:ClusterParameterGroup')).family).toBe(`aurora-postgresql${config.database.engineVersion.split('.')[0]}`);
    expect(cluster.kmsKeyId).toBe(cluster.masterUserSecretKmsKeyId);
    expect(cluster.skipFinalSnapshot).toBe(config.environment !== 'prod');
    expect(cluster.backupRetentionPeriod).toBe(config.database.backupRetentionDays);
    const members = ofType(resources, 'aws:rds/clusterInstance:ClusterInstance').map(inputs);
    expect(members).toHaveLength(1 + config.database.readers);
    const zones = members.map((m) => m.availabilityZone);
    expect(new Set(zones).size).toBe(members.length);
    expect(zones).toEqual(config.availabilityZones.slice(0, members.length));
    for (const m of members) {
      expect(m).toMatchObject({ clusterIdentifier: 'onnx-fleet-db-id', engine: 'aurora-postgresql', instanceClass: config.database.instanceClass, publiclyAccessible: false, performanceInsightsEnabled: true, autoMinorVersionUpgrade: false });
      expect(m.username ?? m.password ?? m.manageMasterUserPassword).toBeUndefined();
    }
    // An instance's engine version is upgraded through its cluster only (ModifyDBInstance refuses it for a
    // cluster member, aws/aws-cdk#22180; hashicorp/terraform-provider-aws#14709 docs): pulumi up must not
    // propose it on the instances when database.engineVersion changes.
    for (const m of ofType(resources, 'aws:rds/clusterInstance:ClusterInstance')) expect(m.ignoreChanges).toEqual(['engineVersion']);
    // The writer is created first (the first available instance of a cluster becomes its writer).
    expect(members.map((m) => m.promotionTier)).toEqual(members.map((_, i) => i));
  });

  test('sharded storage: one hardened, KMS-encrypted bucket per shard', () => {
    const shards = ofType(resources, 'aws:s3/bucket:Bucket').filter((b) => /-shard-\d+$/.test(b.name));
    expect(shards).toHaveLength(config.shards);
    for (const b of shards) {
      const sse = inputs(one(resources, 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', b.name));
      expect(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe('aws:kms');
      expect(inputs(one(resources, 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', b.name)).rules[0].status).toBe('Enabled');
    }
  });

  test('IAM: read only the artifact bucket, write only the shards, read only the database secret', () => {
    const policy = JSON.parse(inputs(one(resources, 'aws:iam/rolePolicy:RolePolicy')).policy);
    const bySid = Object.fromEntries(policy.Statement.map((s: any) => [s.Sid, s]));
    expect(bySid.ReadArtifacts).toMatchObject({ Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::onnx-fleet-artifacts-bucket/*'] });
    // The model store: objects under its prefix only; listing only that prefix (s3:prefix, a condition of ListBucket).
    const { bucket, prefix } = modelStoreOf(config);
    expect(bySid.ReadModelStore).toEqual({ Sid: 'ReadModelStore', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/${prefix}*`] });
    expect(bySid.ListModelStore).toEqual({ Sid: 'ListModelStore', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`], ...(prefix ? { Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } } : {}) });
    // Release gating's one write: load markers, nothing else of the store.
    expect(bySid.RecordModelLoads).toEqual({ Sid: 'RecordModelLoads', Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`arn:aws:s3:::${bucket}/${prefix}*/loaded/*`] });
    if (config.modelStore.kmsKeyArn) expect(bySid.UseModelStoreKey).toEqual({ Sid: 'UseModelStoreKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: [config.modelStore.kmsKeyArn], Condition: { StringEquals: { 'kms:ViaService': `s3.${config.region}.amazonaws.com` } } });
    else expect(bySid.UseModelStoreKey).toBeUndefined();
    expect(bySid.WriteCaptureShards.Resource).toEqual(Array.from({ length: config.shards }, (_, i) => `arn:aws:s3:::onnx-fleet-shard-${i}-bucket/*`));
    // The cluster's managed secret (masterUserSecrets[0]), decrypted with the stack key only through Secrets Manager
    // for that secret (Secrets Manager User Guide, "Secret encryption and decryption": encryption context SecretARN).
    const secret = 'arn:aws:secretsmanager:mock:000000000000:secret:rds!cluster-onnx-fleet-db';
    expect(bySid.ReadDatabaseSecret).toMatchObject({ Action: ['secretsmanager:GetSecretValue'], Resource: [secret] });
    expect(bySid.DecryptDatabaseSecret).toMatchObject({ Action: ['kms:Decrypt'], Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${config.region}.amazonaws.com`, 'kms:EncryptionContext:SecretARN': secret } } });
    expect(bySid.UseStackKeyThroughS3.Condition.StringEquals['kms:ViaService']).toBe(`s3.${config.region}.amazonaws.com`);
    for (const s of policy.Statement.filter((x: any) => JSON.stringify(x.Action).includes('kms:'))) expect(s.Condition.StringEquals['kms:ViaService']).toBeDefined();
    for (const s of policy.Statement) {
      expect(JSON.stringify(s.Action)).not.toMatch(/"\*"|:\*"/);
      // Resource "*" only where the action has no resource-level permissions, and then scoped by a condition key.
      if (s.Sid !== 'ReportOwnHealth' && s.Sid !== 'PublishSaturationSignal') expect(s.Resource).not.toContain('*');
    }
    expect(bySid.PublishSaturationSignal).toEqual({ Sid: 'PublishSaturationSignal', Effect: 'Allow', Action: ['cloudwatch:PutMetricData'], Resource: ['*'], Condition: { StringEquals: { 'cloudwatch:namespace': 'ONNXFleet' } } });
    expect(bySid.ReportOwnHealth.Action).toEqual(['autoscaling:CompleteLifecycleAction', 'autoscaling:SetInstanceHealth']);
    expect(bySid.ReportOwnHealth.Condition.StringEquals['autoscaling:ResourceTag/onnx-fleet:stack']).toBe(stack);
  });

  test('monitoring: the alarms exist and notify the topic; Aurora replica lag per reader and cluster-wide', () => {
    const alarmRecords = ofType(resources, 'aws:cloudwatch/metricAlarm:MetricAlarm');
    const alarms = alarmRecords.map((a) => a.name.replace('onnx-fleet-monitoring-', ''));
    expect(alarms).toEqual(expect.arrayContaining(['unhealthy-hosts', '5xx-rate', 'latency-p99', 'shed-requests', 'db-cpu', 'db-free-local-storage']));
    const lag = alarmRecords.filter((a) => /db-replica-lag-\d+$/.test(a.name)).map(inputs);
    expect(lag).toHaveLength(config.database.readers);
    const readerIds = ofType(resources, 'aws:rds/clusterInstance:ClusterInstance').filter((r) => r.name.includes('-reader-')).map((r) => r.name).sort(); // the mock's identifier is the name
    expect(lag.map((a) => a.dimensions.DBInstanceIdentifier).sort()).toEqual(readerIds);
    // AuroraReplicaLag, in milliseconds, per reader (Aurora User Guide, "Instance-level metrics for Amazon Aurora").
    for (const a of lag) expect(a).toMatchObject({ namespace: 'AWS/RDS', metricName: 'AuroraReplicaLag' });
    expect(alarms.includes('db-replica-lag-max')).toBe(config.database.readers > 0);
    // Writer metrics by role follow the writer through a failover.
    expect(inputs(alarmRecords.find((a) => a.name.endsWith('-db-cpu'))!).dimensions).toEqual({ DBClusterIdentifier: 'onnx-fleet-db', Role: 'WRITER' });
    for (const a of alarmRecords) expect(inputs(a).alarmActions).toHaveLength(1);
    // Model releases, per fleet, on what its runtimes publish (namespace ONNXFleet, the group as the one dimension).
    for (const group of ofType(resources, 'aws:autoscaling/group:Group')) {
      const prefix = group.name === 'onnx-fleet-fleet' ? '' : 'canary-fleet-';
      for (const [suffix, metricName, statistic] of [['model-load-failures', 'onnx_fleet_model_load_failures', 'Sum'], ['model-canary-routed-out', 'onnx_fleet_model_canaries_routed_out', 'Maximum']]) {
        expect(inputs(one(resources, 'aws:cloudwatch/metricAlarm:MetricAlarm', `onnx-fleet-monitoring-${prefix}${suffix}`))).toMatchObject({
          namespace: SATURATION_METRIC.namespace, metricName, statistic, dimensions: { AutoScalingGroupName: `${group.name}-asg` }, period: 60, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
        });
      }
    }
    const dashboard = JSON.parse(inputs(one(resources, 'aws:cloudwatch/dashboard:Dashboard')).dashboardBody);
    const titles = dashboard.widgets.map((w: any) => w.properties.title);
    expect(titles).toContain('Database CPU (writer, readers)');
    expect(titles.includes('Aurora replica lag (ms)')).toBe(config.database.readers > 0);
  });
}

function describeKubernetes(get: () => { config: StackConfig; resources: ResourceRecord[] }): void {
  const deployments = () => ofType(get().resources, 'kubernetes:apps/v1:Deployment');

  test('probes use the runtime contract paths and port; preStop and grace cover the drain', () => {
    for (const d of deployments()) {
      const spec = inputs(d).spec.template.spec;
      const c = spec.containers[0];
      expect(c.ports[0]).toMatchObject({ name: 'http', containerPort: DEFAULT_PORT });
      expect(c.readinessProbe.httpGet).toEqual({ path: HEALTH_READY_PATH, port: 'http' });
      expect(c.livenessProbe.httpGet).toEqual({ path: HEALTH_LIVE_PATH, port: 'http' });
      expect(c.startupProbe.httpGet.path).toBe(HEALTH_READY_PATH);
      expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(STARTUP_BUDGET_SECONDS);
      expect(c.readinessProbe.periodSeconds).toBe(HEALTH_CHECK.intervalSeconds);
      expect(c.readinessProbe.failureThreshold).toBe(HEALTH_CHECK.unhealthyThreshold);
      expect(c.lifecycle.preStop.sleep.seconds).toBe(DRAIN_DELAY_SECONDS);
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(DRAIN_DELAY_SECONDS + DRAIN_DELAY_SECONDS + EXIT_TIMEOUT_SECONDS);
      expect(inputs(d).spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' });
    }
  });

  test('containers are hardened: non-root, read-only root filesystem, no privilege escalation, no capabilities', () => {
    for (const d of deployments()) {
      const spec = inputs(d).spec.template.spec;
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
      expect(spec.containers[0].resources.requests).toEqual(spec.containers[0].resources.limits);
    }
  });

  test('HPA on CPU and on the saturation signal (the name and target the AWS fleet tracks), PDB that lets unhealthy pods go', () => {
    const { config, resources } = get();
    const hpa = inputs(one(resources, 'kubernetes:autoscaling/v2:HorizontalPodAutoscaler')).spec;
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([config.minSize, config.maxSize]);
    expect(hpa.metrics.map((m: any) => m.type)).toEqual(['Resource', 'Pods']);
    expect(hpa.metrics[1].pods).toEqual({ metric: { name: 'onnx_fleet_saturation' }, target: { type: 'AverageValue', averageValue: String(config.scaling.saturationTarget) } });
    expect(hpa.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThan(0);
    expect(inputs(one(resources, 'kubernetes:policy/v1:PodDisruptionBudget')).spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    const rules = JSON.parse(inputs(one(resources, 'kubernetes:core/v1:ConfigMap')).data['rules.yaml']);
    expect(rules.rules[0].seriesQuery).toBe('onnx_fleet_saturation{namespace!="",pod!=""}');
    expect(rules.rules[0].name).toEqual({ matches: '^onnx_fleet_saturation$', as: 'onnx_fleet_saturation' });
  });

  test('CloudNativePG runs 1 primary + the configured replicas across zones; the runtime is handed -rw and -ro', () => {
    const { config, resources } = get();
    const cluster = inputs(one(resources, 'kubernetes:postgresql.cnpg.io/v1:Cluster')).spec;
    expect(cluster.instances).toBe(1 + config.database.readers);
    expect(cluster.affinity).toMatchObject({ enablePodAntiAffinity: true, topologyKey: 'topology.kubernetes.io/zone' });
    expect(cluster.enablePDB).toBe(true);
    const env = Object.fromEntries(inputs(deployments()[0]).spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.ONNX_FLEET_DATABASE_WRITER_URL).toContain('onnx-fleet-db-rw.');
    expect(env.ONNX_FLEET_DATABASE_READER_URLS).toContain('onnx-fleet-db-ro.');
    expect(env.ONNX_FLEET_CAPTURE_SHARDS.split(',')).toHaveLength(config.shards);
    if (config.kubernetes!.serviceAccountRoleArn) {
      // IAM roles for service accounts: web identity credentials, and no static keys (the SDK would prefer them).
      expect(env.AWS_ROLE_ARN).toBe(config.kubernetes!.serviceAccountRoleArn);
      expect(env.AWS_WEB_IDENTITY_TOKEN_FILE).toBe('/var/run/secrets/eks.amazonaws.com/serviceaccount/token');
      expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    } else expect(env.AWS_SECRET_ACCESS_KEY).toEqual({ secretKeyRef: { name: config.kubernetes!.storage.credentialsSecret, key: 'AWS_SECRET_ACCESS_KEY' } });
  });

  test('models: the pods poll the model store into a cache of their own (or read the claim, or the image), in the stack\'s control mode', () => {
    const { config, resources } = get();
    for (const d of deployments()) {
      const spec = inputs(d).spec.template.spec;
      const env = Object.fromEntries(spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      expect(env.ONNX_FLEET_MODEL_CONTROL_MODE).toBe(config.modelControlMode);
      expect(env.ONNX_FLEET_REPOSITORY_POLL_SECS).toBe(String(config.repositoryPollSecs));
      const volumes = Object.fromEntries(spec.volumes.map((v: any) => [v.name, v]));
      if (config.modelStore.location) {
        expect(env.ONNX_FLEET_MODEL_REPOSITORY).toBe(config.modelStore.location);
        expect(env.ONNX_FLEET_MODEL_CACHE_DIR).toBe('/var/lib/onnx-fleet/model-cache');
        expect(volumes['model-cache']).toEqual({ name: 'model-cache', emptyDir: { sizeLimit: config.kubernetes!.modelCacheSize } });
        expect(volumes.models).toBeUndefined();
      } else expect(env.ONNX_FLEET_MODEL_REPOSITORY).toBe('/models');
      if (config.kubernetes!.serviceAccountRoleArn) {
        const sa = one(resources, 'kubernetes:core/v1:ServiceAccount');
        expect(inputs(sa).metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': config.kubernetes!.serviceAccountRoleArn });
        expect(spec.serviceAccountName).toBe(inputs(sa).metadata.name);
        expect(spec.automountServiceAccountToken).toBe(false);
        expect(volumes['aws-iam-token'].projected.sources).toEqual([{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86_400, path: 'token' } }]);
      } else expect(spec.serviceAccountName).toBeUndefined();
    }
  });

  test('NetworkPolicies: only the ingress controller (and metrics scraper) reach the runtime; only the runtime reaches the database', () => {
    const { config, resources } = get();
    const policies = Object.fromEntries(ofType(resources, 'kubernetes:networking.k8s.io/v1:NetworkPolicy').map((p) => [p.name.replace('onnx-fleet-netpol-', ''), inputs(p).spec]));
    expect(Object.keys(policies).sort()).toEqual(['database-ingress', 'default-deny-ingress', 'runtime-ingress']);
    expect(policies['default-deny-ingress']).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    expect(policies['runtime-ingress'].ingress).toEqual([
      {
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': config.kubernetes!.ingressNamespace } } },
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': config.kubernetes!.monitoringNamespace } } },
        ],
        ports: [{ protocol: 'TCP', port: DEFAULT_PORT }],
      },
    ]);
    const db = policies['database-ingress'];
    expect(db.podSelector).toEqual({ matchLabels: { 'cnpg.io/cluster': 'onnx-fleet-db' } });
    expect(db.ingress[0]).toEqual({ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'onnx-fleet', 'app.kubernetes.io/component': 'runtime' } } }], ports: [{ protocol: 'TCP', port: 5432 }] });
    expect(db.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port)).sort()).toEqual([5432, 5432, 8000]);
  });

  test('traffic: an Ingress of the configured class, and a weighted canary when asked', () => {
    const { config, resources } = get();
    const ingresses = ofType(resources, 'kubernetes:networking.k8s.io/v1:Ingress').map(inputs);
    expect(ingresses.every((i) => i.spec.ingressClassName === config.kubernetes!.ingressClass)).toBe(true);
    const canary = ingresses.find((i) => i.metadata.annotations['nginx.ingress.kubernetes.io/canary']);
    if (config.canaryWeight > 0) expect(canary!.metadata.annotations['nginx.ingress.kubernetes.io/canary-weight']).toBe(String(config.canaryWeight));
    else expect(canary).toBeUndefined();
  });
}
