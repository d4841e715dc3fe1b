/** Stack configuration validation: every error names the key, the value received and what is allowed. */
import { checkAuroraInstanceClass } from '../../infra/aws/aurora-postgres';
import path from 'node:path';
import { ConfigError, KEY_PATHS, LEAF_KEY_PATHS, parseStackConfig } from '../../infra/config';
import { decodeRoot, group, int, key, namespaceKeys, removed } from '../../infra/config/kit';
import { STACK_FIELDS } from '../../infra/config/stack-schema';
import { readStackFile } from '../../infra/synth';
import { STACKS_DIR, stackNames } from './graph';

/** The keys every stack has had; keys added later join the list in the schema's declaration order. */
const ORIGINAL_KEYS = [
  'environment', 'platform', 'availabilityZones', 'vpcCidr', 'natGateways', 'arch', 'amiId', 'instanceType', 'minSize', 'maxSize', 'desiredCapacity', 'spot', 'warmPool',
  'loadBalancingAlgorithm', 'certificateArn', 'canaryWeight', 'scaling', 'database', 'shards', 'alarmEmail', 'latencyP99AlarmSeconds', 'runtimeBundle', 'modelRepository', 'kubernetes',
];
const KNOWN_KEYS = namespaceKeys(STACK_FIELDS).map((k) => `onnx-fleet:${k}`).join(', ');
const AMI = 'ami-0123456789abcdef0';
const base = { 'aws:region': 'us-east-1', 'onnx-fleet:environment': 'dev', 'onnx-fleet:amiId': AMI };
const prod = {
  'aws:region': 'us-east-1',
  'onnx-fleet:environment': 'prod',
  'onnx-fleet:amiId': AMI,
  'onnx-fleet:certificateArn': 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123',
};

describe('stack config', () => {
  test('the unknown-key message lists every key of the schema, the original ones included', () => {
    expect(namespaceKeys(STACK_FIELDS)).toEqual(expect.arrayContaining(ORIGINAL_KEYS));
  });

  test('every stack file in stacks/ is valid', () => {
    for (const stack of stackNames()) expect(() => parseStackConfig(readStackFile(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`)))).not.toThrow();
  });

  test('AMI ids: ami- and 8 or 17 hex digits, both accepted', () => {
    for (const id of ['ami-12345678', 'ami-0123456789abcdef0']) expect(parseStackConfig({ ...base, 'onnx-fleet:amiId': id }).amiId).toBe(id);
    for (const id of ['ami-1234567', 'ami-0123456789abcdef', 'ami-0123456789ABCDEF0', 'ami-0123456789abcdefg', '0123456789abcdef0']) expect(() => parseStackConfig({ ...base, 'onnx-fleet:amiId': id })).toThrow(/onnx-fleet:amiId: got/);
  });

  test('defaults by environment', () => {
    const dev = parseStackConfig(base);
    expect(dev).toMatchObject({ platform: 'aws', availabilityZones: ['us-east-1a', 'us-east-1b'], natGateways: 'single', shards: 2, database: { instanceClass: 'db.t4g.medium', readers: 0 } });
    const p = parseStackConfig(prod);
    expect(p).toMatchObject({ availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], natGateways: 'perAz', minSize: 3, shards: 4, database: { instanceClass: 'db.r6g.large', readers: 2 } });
  });

  test.each<[string, Record<string, string>, string | ReturnType<typeof expect.stringMatching>]>([
    ['unknown algorithm', { ...base, 'onnx-fleet:loadBalancingAlgorithm': 'fastest' }, 'onnx-fleet:loadBalancingAlgorithm: got "fastest", expected one of round_robin, least_outstanding_requests, weighted_random'],
    ['prod without a reader to fail over to', { ...prod, 'onnx-fleet:database': '{"readers": 0}' }, 'onnx-fleet:database.readers: got 0, expected at least 1 in prod: a failover promotes a reader in another availability zone'],
    ['max < min', { ...base, 'onnx-fleet:minSize': '4', 'onnx-fleet:maxSize': '2' }, 'onnx-fleet:maxSize: got 2, expected at least onnx-fleet:minSize (4)'],
    ['a region with fewer zones than asked', { ...base, 'aws:region': 'us-west-1', 'onnx-fleet:availabilityZones': '3' }, 'onnx-fleet:availabilityZones: got 3, but us-west-1 has only 2 availability zones (us-west-1a, us-west-1c); expected 2 to 2'],
    ['unknown region', { ...base, 'aws:region': 'mars-north-1' }, 'aws:region: got "mars-north-1", expected one of us-east-1, us-east-2, us-west-2, eu-west-1, eu-west-3, eu-central-1, eu-north-1, ap-southeast-1, ap-northeast-1, sa-east-1, us-west-1'],
    ['unknown environment', { ...base, 'onnx-fleet:environment': 'production' }, 'onnx-fleet:environment: got "production", expected one of dev, staging, prod'],
    ['unknown platform', { ...base, 'onnx-fleet:platform': 'nomad' }, 'onnx-fleet:platform: got "nomad", expected one of aws, kubernetes'],
    ['shard count', { ...base, 'onnx-fleet:shards': '0' }, 'onnx-fleet:shards: got 0, expected an integer from 1 to 64'],
    ['more readers than zones apart from the writer\'s', { ...base, 'onnx-fleet:database': '{"readers": 2}' }, 'onnx-fleet:database.readers: got 2, expected at most 1: each reader runs in an availability zone of its own, apart from the writer\'s, and onnx-fleet:availabilityZones is 2 (AWS rule rds-aurora-readers-distinct-zones, see infra/rules/RULES.md)'],
    ['arch and instance type disagree', { ...base, 'onnx-fleet:instanceType': 'c7g.large' }, 'onnx-fleet:instanceType: got "c7g.large", which is arm64 (Graviton), but onnx-fleet:arch is x64; expected a matching instance type or arch'],
    ['prod without HTTPS', { ...prod, 'onnx-fleet:certificateArn': '' }, 'onnx-fleet:certificateArn: missing, expected an ACM certificate ARN: prod serves HTTPS only'],
    ['prod with one NAT', { ...prod, 'onnx-fleet:natGateways': 'single' }, 'onnx-fleet:natGateways: got "single", expected "perAz" in prod (a NAT gateway per zone, so one zone\'s outage cannot cut the others off)'],
    ['warm pool with spot', { ...base, 'onnx-fleet:spot': '{"enabled": true}', 'onnx-fleet:warmPool': '{"enabled": true}' }, 'onnx-fleet:warmPool.enabled: got true, but AWS does not allow a warm pool with spot (mixed instances); expected false while onnx-fleet:spot.enabled is true (AWS rule asg-warm-pool-mixed-instances, see infra/rules/RULES.md)'],
    ['unknown key', { ...base, 'onnx-fleet:instanceTyp': 'c7i.large' }, `onnx-fleet:instanceTyp: unknown key; did you mean onnx-fleet:instanceType? known keys: ${KNOWN_KEYS}`],
    ['unknown field', { ...base, 'onnx-fleet:database': '{"replicas": 1}' }, 'onnx-fleet:database: unknown field "replicas", expected fields: instanceClass, engineVersion, readers, backupRetentionDays'],
    ['kubernetes without an image', { ...base, 'onnx-fleet:platform': 'kubernetes', 'onnx-fleet:kubernetes': '{}' }, 'onnx-fleet:kubernetes.image: missing, expected a container image reference (build it from the repository\'s Dockerfile)'],
    ['kubernetes prod on :latest', { ...prod, 'onnx-fleet:platform': 'kubernetes', 'onnx-fleet:kubernetes': '{"image": "ghcr.io/x/runtime:latest"}' }, 'onnx-fleet:kubernetes.image: got "ghcr.io/x/runtime:latest", expected a pinned tag or digest in prod (not :latest)'],
    ['bad schedule', { ...base, 'onnx-fleet:scaling': '{"schedules": [{"name": "x", "recurrence": "every day", "minSize": 1, "maxSize": 2, "desiredCapacity": 1}]}' }, 'onnx-fleet:scaling.schedules[0].recurrence: got "every day", expected a 5-field cron expression'],
    ['a misspelt key far from any other', { ...base, 'onnx-fleet:colour': 'blue' }, `onnx-fleet:colour: unknown key; known keys: ${KNOWN_KEYS}`],
    ['a certificate from another region', { ...prod, 'onnx-fleet:certificateArn': 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123' }, 'onnx-fleet:certificateArn: got "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123", expected a certificate in us-east-1: an ALB uses ACM certificates from its own region only (AWS rule alb-certificate-region, see infra/rules/RULES.md)'],
    ['not a certificate ARN', { ...base, 'onnx-fleet:certificateArn': 'my-cert' }, 'onnx-fleet:certificateArn: got "my-cert", expected an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)'],
    ['no region', { 'onnx-fleet:environment': 'dev' }, 'aws:region: missing, expected one of us-east-1, us-east-2, us-west-2, eu-west-1, eu-west-3, eu-central-1, eu-north-1, ap-southeast-1, ap-northeast-1, sa-east-1, us-west-1'],
    ['desired outside min..max', { ...base, 'onnx-fleet:minSize': '2', 'onnx-fleet:maxSize': '4', 'onnx-fleet:desiredCapacity': '5' }, 'onnx-fleet:desiredCapacity: got 5, expected from onnx-fleet:minSize (2) to onnx-fleet:maxSize (4)'],
    ['prod with fewer instances than zones', { ...prod, 'onnx-fleet:minSize': '2' }, 'onnx-fleet:minSize: got 2, expected at least one instance per availability zone (3) in prod'],
    ['a non-integer size', { ...base, 'onnx-fleet:maxSize': 'lots' }, 'onnx-fleet:maxSize: got "lots", expected an integer from 1 to 1000'],
    ['a malformed object', { ...base, 'onnx-fleet:database': '[1, 2]' }, 'onnx-fleet:database: got "[1, 2]", expected an object'],
    // Released versions only, from AWS's Aurora PostgreSQL release notes (infra/aws/aurora-postgres.ts).
    ['an unreleased engine version', { ...base, 'onnx-fleet:database': '{"engineVersion": "15.11"}' }, 'onnx-fleet:database.engineVersion: got "15.11", expected one of 15.10, 15.12, 15.14, 15.15: the Aurora PostgreSQL 15 versions AWS\'s release notes list (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/AuroraPostgreSQL.Updates.html), in full major.minor (a major-only version is documented for Aurora MySQL only) (AWS rule rds-aurora-postgresql-engine-version, see infra/rules/RULES.md)'],
    ['not a version', { ...base, 'onnx-fleet:database': '{"engineVersion": "latest"}' }, 'onnx-fleet:database.engineVersion: got "latest", expected an Aurora PostgreSQL version (major.minor), one of 15.10, 15.12, 15.14, 15.15'],
    ['no pinned AMI', { 'aws:region': 'eu-west-1', 'onnx-fleet:arch': 'arm64', 'onnx-fleet:instanceType': 'c7g.large' },
      'onnx-fleet:amiId: missing, expected an AMI id pinned in the stack config (ami- followed by 8 or 17 hex digits); the current Amazon Linux 2023 image for eu-west-1 (arm64) is the SSM parameter /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64: aws ssm get-parameter --region eu-west-1 --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64 --query Parameter.Value --output text'],
    // AWS cannot roll back to a template whose ImageId is an SSM parameter (EC2 Auto Scaling User Guide, "Undo changes with a manual or auto rollback").
    ['an SSM-parameter AMI', { ...base, 'onnx-fleet:amiId': 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
      'onnx-fleet:amiId: got "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", expected a concrete AMI id, not an SSM parameter: AWS cannot roll back an instance refresh to a launch template that resolves its image from SSM; the current Amazon Linux 2023 image for us-east-1 (x64) is the SSM parameter /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64: aws ssm get-parameter --region us-east-1 --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 --query Parameter.Value --output text'],
    ['a malformed AMI id', { ...base, 'onnx-fleet:amiId': 'ami-12345' }, expect.stringMatching(/^onnx-fleet:amiId: got "ami-12345", expected an AMI id: ami- followed by 8 or 17 lowercase hex digits; the current Amazon Linux 2023 image for us-east-1 \(x64\) is the SSM parameter \/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-default-x86_64: aws ssm get-parameter/)],
    ['an AMI id on the kubernetes target', { ...base, 'onnx-fleet:platform': 'kubernetes', 'onnx-fleet:kubernetes': '{"image": "ghcr.io/x/runtime:1.0"}' }, 'onnx-fleet:amiId: set, but onnx-fleet:platform is "kubernetes"; expected no onnx-fleet:amiId key (the AMI is for the AWS fleet only)'],
    // Keys of the RDS primary + read replicas design: each names what replaces it (README, "Migrating from RDS read replicas").
    ['the old readReplicas key', { ...base, 'onnx-fleet:database': '{"readReplicas": 1}' }, 'onnx-fleet:database.readReplicas: removed; use onnx-fleet:database.readers instead (Aurora Replicas behind the reader endpoint, each in its own availability zone, are also the failover targets: readReplicas N → readers N)'],
    ['the old multiAz key', { ...prod, 'onnx-fleet:database': '{"multiAz": true, "readers": 2}' }, 'onnx-fleet:database.multiAz: removed; use onnx-fleet:database.readers instead (an Aurora cluster fails over by promoting a reader in another availability zone: multiAz true → readers 1 or more, false → readers 0)'],
    ['allocated storage, which Aurora does not have', { ...base, 'onnx-fleet:database': '{"allocatedStorageGb": 100}' }, 'onnx-fleet:database.allocatedStorageGb: removed (the Aurora cluster volume grows by itself, up to 128 TiB, and is billed for what it holds: remove the key)'],
    ['max allocated storage, likewise', { ...base, 'onnx-fleet:database': '{"maxAllocatedStorageGb": 1000}' }, 'onnx-fleet:database.maxAllocatedStorageGb: removed (the Aurora cluster volume grows by itself, up to 128 TiB, and is billed for what it holds: remove the key)'],
    // Aurora User Guide, "Supported DB engines for DB instance classes": no micro/small and no db.m* classes for Aurora PostgreSQL.
    ['an RDS-only small class', { ...base, 'onnx-fleet:database': '{"instanceClass": "db.t4g.small"}' }, 'onnx-fleet:database.instanceClass: got "db.t4g.small", expected an Aurora PostgreSQL 15 instance class such as db.t4g.medium (dev) or db.r6g.large: Aurora PostgreSQL offers db.t4g in medium, large; its smallest is db.t4g.medium (AWS rule rds-aurora-instance-class, see infra/rules/RULES.md)'],
    ['a general-purpose class', { ...base, 'onnx-fleet:database': '{"instanceClass": "db.m6g.large"}' }, 'onnx-fleet:database.instanceClass: got "db.m6g.large", expected an Aurora PostgreSQL 15 instance class such as db.t4g.medium (dev) or db.r6g.large: Aurora PostgreSQL has no db.m6g classes (general-purpose db.m* classes are RDS for PostgreSQL only) (AWS rule rds-aurora-instance-class, see infra/rules/RULES.md)'],
    ['not an instance class', { ...base, 'onnx-fleet:database': '{"instanceClass": "r6g.large"}' }, 'onnx-fleet:database.instanceClass: got "r6g.large", expected an Aurora PostgreSQL instance class such as db.r6g.large'],
    // Aurora User Guide, "Performance and scaling for Amazon Aurora PostgreSQL": T classes for development and test only.
    ['a burstable class in prod', { ...prod, 'onnx-fleet:database': '{"instanceClass": "db.t4g.large"}' }, 'onnx-fleet:database.instanceClass: got "db.t4g.large", expected a memory-optimized class (db.r6g.large or larger) in prod: AWS recommends the burstable db.t* classes for development and test only'],
    ['canary above half', { ...base, 'onnx-fleet:canaryWeight': '60' }, 'onnx-fleet:canaryWeight: got 60, expected an integer from 0 to 50'],
  ])('%s', (_name, raw, message) => {
    let error: unknown;
    try {
      parseStackConfig(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toEqual(message);
  });
});

describe('the schema kit', () => {
  const fields = {
    environment: key(int(0, 1) as any, { default: 'dev', description: 'stand-in environment key' }),
    size: key(int(1, 9), { default: 1, description: 'a size' }),
    oldSize: removed({ use: 'size', why: 'renamed' }),
    db: group({ replicas: removed({ use: 'db.readers', why: 'readers replace replicas in the new design' }), readers: key(int(0, 2), { default: 0, description: 'readers' }) }, { description: 'db' }),
  };
  const parse = (raw: Record<string, string>) => decodeRoot(fields, { namespace: 'ns' }, raw);
  const message = (raw: Record<string, string>) => {
    try {
      parse(raw);
    } catch (err) {
      return (err as Error).message;
    }
    return 'no error';
  };

  test('a removed key names its replacement, at the top level and inside an object', () => {
    expect(message({ 'ns:oldSize': '3' })).toBe('ns:oldSize: removed; use ns:size instead (renamed)');
    expect(message({ 'ns:db': '{"replicas": 2}' })).toBe('ns:db.replicas: removed; use ns:db.readers instead (readers replace replicas in the new design)');
    expect(parse({ 'ns:db': '{"readers": 2}' })).toEqual({ environment: 'dev', size: 1, db: { readers: 2 } });
  });

  test('removed keys are not offered as known keys', () => {
    expect(message({ 'ns:colour': 'x' })).toBe('ns:colour: unknown key; known keys: ns:environment, ns:size, ns:db');
    expect(message({ 'ns:db': '{"x": 1}' })).toBe('ns:db: unknown field "x", expected fields: readers');
  });
});

test('every key path is exported, nested ones included, for the rules table', () => {
  expect(KEY_PATHS).toEqual(expect.arrayContaining(['aws:region', 'environment', 'spot', 'spot.enabled', 'database.instanceClass', 'scaling.schedules', 'scaling.schedules[].recurrence', 'kubernetes.database.mode']));
  expect(LEAF_KEY_PATHS).toContain('spot.instanceTypes');
  expect(LEAF_KEY_PATHS).not.toContain('spot');
  expect(new Set(KEY_PATHS).size).toBe(KEY_PATHS.length);
});

describe('database: Aurora PostgreSQL', () => {
  test('every class the stacks use is one Aurora PostgreSQL offers; prod gets readers by default', () => {
    for (const stack of stackNames()) {
      const c = parseStackConfig(readStackFile(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`)));
      expect(checkAuroraInstanceClass(c.database.instanceClass)).toMatchObject({ ok: true });
      expect(c.database.readers).toBeLessThan(c.availabilityZones.length);
    }
    expect(parseStackConfig({ ...prod, 'onnx-fleet:database': '{"instanceClass": "db.r7g.2xlarge", "readers": 1}' }).database).toEqual({ instanceClass: 'db.r7g.2xlarge', engineVersion: '15.10', readers: 1, backupRetentionDays: 14 });
  });
});
