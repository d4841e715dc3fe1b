/**
 * THE stack schema: every key a stack file may set, in one place. Validation (infra/config/index.ts),
 * the editors' JSON Schema (stacks/onnx-fleet.schema.json) and the README's configuration reference
 * are generated from it (`npm run schema` rewrites both; tests fail when either is stale).
 *
 * To add a key: add an entry below, where it belongs (defaults and checks see the keys declared
 * above them; checks run once every key is decoded). To retire one: replace its entry with
 * `removed({ use: '<new key path>', why: '...' })`, so setting it is an error naming its replacement.
 * Then `npm run schema`, and map the key to its AWS rules in the rules table.
 */
import { AMI_ID_PATTERN, amiLookupHint, isGravitonType } from '../aws/ami';
import { AURORA_MAX_READERS, AURORA_POSTGRES_ENGINE_VERSION, AURORA_POSTGRES_VERSIONS, checkAuroraInstanceClass } from '../aws/aurora-postgres';
import { DEFAULT_REPOSITORY_POLL_SECS, MODEL_CONTROL_MODES } from '../../runtime/contract';
import { parseS3Location } from '../../runtime/s3-location';
import { bool, byEnv, derived, ENVIRONMENTS, group, int, key, list, number, object, oneOf, optional, platformOnly, removed, show, text } from './kit';

export const NAMESPACE = 'onnx-fleet';
/** `onnx-fleet:<path>`, for messages that name another key. */
export const k = (path: string): string => `${NAMESPACE}:${path}`;

export const PLATFORMS = ['aws', 'kubernetes'] as const;
export const ALGORITHMS = ['round_robin', 'least_outstanding_requests', 'weighted_random'] as const;
export const ARCHES = ['x64', 'arm64'] as const;
export const NAT_STRATEGIES = ['single', 'perAz'] as const;
/** The prefix of the model store the AWS stack creates (its bucket is named by Pulumi). */
export const CREATED_MODEL_STORE_PREFIX = 'models/';
const KMS_KEY_ARN = /^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/;

/** What is wrong with a configured model store location (s3-location.ts parses it, as the runtime does). */
function modelStoreProblem(location: string, platform: string): string | undefined {
  let parsed;
  try {
    parsed = parseS3Location(location, 'model store', {});
  } catch (err) {
    return `got ${show(location)}: ${(err as Error).message.replace(/^model store "[^"]*": /, '')}`;
  }
  if (platform === 'aws' && parsed.endpoint !== undefined) return `got ${show(location)}, expected an AWS S3 bucket without ?endpoint= on the AWS target (the instance role is granted read access to it)`;
  return undefined;
}

/** Availability zones known per region, so a stack can be validated offline (no AWS call). */
export const REGION_AZS: Record<string, string[]> = {
  'us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1f'],
  'us-east-2': ['us-east-2a', 'us-east-2b', 'us-east-2c'],
  'us-west-2': ['us-west-2a', 'us-west-2b', 'us-west-2c', 'us-west-2d'],
  'eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  'eu-west-3': ['eu-west-3a', 'eu-west-3b', 'eu-west-3c'],
  'eu-central-1': ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
  'eu-north-1': ['eu-north-1a', 'eu-north-1b', 'eu-north-1c'],
  'ap-southeast-1': ['ap-southeast-1a', 'ap-southeast-1b', 'ap-southeast-1c'],
  'ap-northeast-1': ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
  'sa-east-1': ['sa-east-1a', 'sa-east-1b', 'sa-east-1c'],
  'us-west-1': ['us-west-1a', 'us-west-1c'],
};

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

const schedule = object(
  {
    name: key(text('a name'), { required: true, missing: 'missing', description: 'Name of the scheduled action.' }),
    recurrence: key(text('a 5-field cron expression', /^\s*\S+(\s+\S+){4}\s*$/), { required: true, missing: 'missing', description: 'Cron expression (UTC unless `timeZone`).' }),
    minSize: key(int(0, 1000), { required: true, missing: 'missing', description: 'Group minimum while the action is in effect.' }),
    maxSize: key(int(1, 1000), { required: true, missing: 'missing', description: 'Group maximum while the action is in effect.' }),
    desiredCapacity: key(int(0, 1000), { required: true, missing: 'missing', description: 'Desired capacity the action sets.' }),
    timeZone: optional(text('an IANA time zone'), { description: 'IANA time zone of `recurrence` (default UTC).' }),
  },
  {
    checks: [
      {
        doc: 'minSize ≤ desiredCapacity ≤ maxSize',
        test: (s) => (s.maxSize < s.minSize || s.desiredCapacity < s.minSize || s.desiredCapacity > s.maxSize ? `got min ${s.minSize}, desired ${s.desiredCapacity}, max ${s.maxSize}, expected min ≤ desired ≤ max` : undefined),
      },
    ],
  },
);

export const STACK_FIELDS = {
  environment: key(oneOf(ENVIRONMENTS), { default: 'dev', description: 'Which defaults and production rules apply (prod: three zones, HTTPS only, a NAT gateway per zone, a database reader to fail over to).' }),
  platform: key(oneOf(PLATFORMS), { default: 'aws', description: 'Deploy target: the AWS platform (ALB, Auto Scaling group, Aurora) or an existing Kubernetes cluster.' }),
  region: key(oneOf(Object.keys(REGION_AZS)), {
    configKey: 'aws:region',
    required: true,
    description: "The AWS provider's region (its own key). Zones are known per region, so a stack validates offline.",
  }),
  availabilityZones: key(int(2, 3), {
    default: byEnv({ dev: 2, staging: 2, prod: 3 }),
    description: "Number of availability zones used, the region's first ones in order.",
    checks: [
      {
        doc: "at most the region's zone count",
        test: (n, c) => {
          const known = REGION_AZS[c.region];
          return n > known.length ? `got ${n}, but ${c.region} has only ${known.length} availability zones (${known.join(', ')}); expected 2 to ${Math.min(3, known.length)}` : undefined;
        },
      },
    ],
  }).to((n, c) => REGION_AZS[c.region].slice(0, n)),
  vpcCidr: key(text('a private /16 such as 10.40.0.0/16', /^10\.\d{1,3}\.0\.0\/16$/), { default: '10.40.0.0/16', description: 'CIDR block of the VPC; subnets are carved from it per zone.' }),
  natGateways: key(oneOf(NAT_STRATEGIES), {
    default: byEnv({ dev: 'single', staging: 'single', prod: 'perAz' }),
    description: 'One NAT gateway for the VPC, or one per zone.',
    checks: [
      {
        doc: '`perAz` in prod',
        test: (v, c) => (c.prod && v !== 'perAz' ? `got ${show(v)}, expected "perAz" in prod (a NAT gateway per zone, so one zone's outage cannot cut the others off)` : undefined),
      },
    ],
  }),
  arch: key(oneOf(ARCHES), { default: 'x64', description: 'CPU architecture of the instances and of the runtime bundle they install.' }),
  // Pinned, never an SSM parameter: see infra/aws/ami.ts for why (instance refresh rollback).
  amiId: platformOnly('aws', text('an AMI id: ami- followed by 8 or 17 lowercase hex digits', AMI_ID_PATTERN, [
    { when: /^resolve:ssm:/, expected: 'a concrete AMI id, not an SSM parameter: AWS cannot roll back an instance refresh to a launch template that resolves its image from SSM' },
  ]), {
    description: "The fleet's AMI, pinned (AWS target only): changing it is a deliberate release.",
    missing: 'missing, expected an AMI id pinned in the stack config (ami- followed by 8 or 17 hex digits)',
    hint: (c) => amiLookupHint(c.region, c.arch),
    elsewhere: `expected no ${k('amiId')} key (the AMI is for the AWS fleet only)`,
  }),
  instanceType: key(text('an EC2 instance type such as c7i.large', INSTANCE_TYPE), {
    default: 'c7i.large',
    description: "The launch template's instance type.",
    checks: [
      {
        doc: 'matches `arch` (Graviton types are arm64)',
        test: (t, c) =>
          isGravitonType(t) !== (c.arch === 'arm64') ? `got ${show(t)}, which is ${isGravitonType(t) ? 'arm64 (Graviton)' : 'x64'}, but ${k('arch')} is ${c.arch}; expected a matching instance type or arch` : undefined,
      },
    ],
  }),
  minSize: key(int(0, 1000), {
    default: byEnv({ dev: 1, staging: 1, prod: 3 }),
    description: 'Fleet minimum (instances or pods).',
    checks: [
      {
        doc: 'in prod, at least one per zone',
        test: (v, c) => (c.prod && v < c.availabilityZones.length ? `got ${v}, expected at least one instance per availability zone (${c.availabilityZones.length}) in prod` : undefined),
      },
    ],
  }),
  maxSize: key(int(1, 1000), {
    default: byEnv({ dev: 3, staging: 3, prod: 12 }),
    description: 'Fleet maximum.',
    checks: [{ doc: '≥ minSize', test: (v, c) => (v < c.minSize ? `got ${v}, expected at least ${k('minSize')} (${c.minSize})` : undefined) }],
  }),
  desiredCapacity: key(int(0, 1000), {
    default: derived('= `minSize`', (c) => c.minSize),
    description: 'Initial capacity (`pulumi up` ignores it afterwards: scaling owns it).',
    checks: [
      {
        doc: 'minSize ≤ value ≤ maxSize',
        test: (v, c) => (v < c.minSize || v > c.maxSize ? `got ${v}, expected from ${k('minSize')} (${c.minSize}) to ${k('maxSize')} (${c.maxSize})` : undefined),
      },
    ],
  }),
  spot: group(
    {
      enabled: key(bool(), { default: false, description: 'Mix spot instances into the group (mixed instances policy, capacity rebalance).' }),
      onDemandBase: key(int(0, 1000), {
        default: derived({ dev: '`0`', staging: '`0`', prod: 'number of zones' }, (c) => (c.prod ? c.availabilityZones.length : 0)),
        description: 'On-demand instances always kept (base capacity).',
      }),
      onDemandPercentage: key(int(0, 100), { default: byEnv({ dev: 0, staging: 0, prod: 50 }), description: 'Percentage of capacity above the base that is on-demand.' }),
      instanceTypes: key(list(text('an instance type', INSTANCE_TYPE), 'a non-empty list of instance types', 1), {
        default: derived('`[instanceType]`', (c) => [c.instanceType]),
        description: "Instance types the group may use (the first is the launch template's).",
      }),
    },
    { description: 'Spot capacity.' },
  ),
  warmPool: group(
    {
      // Not with spot: AWS rule asg-warm-pool-mixed-instances (infra/rules).
      enabled: key(bool(), { default: false, description: 'Keep pre-initialised stopped instances for bursts (not with `spot.enabled`).' }),
      minSize: key(int(0, 100), { default: 1, description: 'Instances kept in the warm pool.' }),
    },
    { description: 'Auto Scaling warm pool.' },
  ),
  loadBalancingAlgorithm: key(oneOf(ALGORITHMS), { default: 'least_outstanding_requests', description: "The target group's routing algorithm (`weighted_random` adds anomaly mitigation)." }),
  certificateArn: optional(text('an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)', /^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/), {
    description: 'ACM certificate for the HTTPS listener; with it, HTTP redirects to HTTPS.',
    checks: [
      // In the stack's region: AWS rule alb-certificate-region (infra/rules).
      { doc: 'required in prod (AWS)', test: (arn, c) => (c.prod && arn === undefined && c.platform === 'aws' ? 'missing, expected an ACM certificate ARN: prod serves HTTPS only' : undefined) },
    ],
  }),
  canaryWeight: key(int(0, 50), { default: 0, description: 'Percentage of traffic sent to the canary fleet (0 = no canary).' }),
  scaling: group(
    {
      saturationTarget: key(number(0, 10_000, 'a number of requests per inference worker above 0'), {
        default: 4,
        description:
          "Average saturation signal (`onnx_fleet_saturation`: requests executing or queued per worker) the group aims for; the ASG's target tracking (10 s high-resolution metric) and the HPA track it. `onnx-fleet plan` writes it from measured capacity.",
      }),
      requestsPerTarget: key(int(1, 1_000_000), { default: 6000, description: 'ALB requests per target per minute the group aims for (`onnx-fleet plan` writes it from measured capacity).' }),
      cpuTarget: key(int(10, 95), { default: 60, description: 'Average CPU percent the group aims for.' }),
      predictive: key(bool(), { default: false, description: 'Add predictive scaling (forecast from CPU history).' }),
      schedules: key(list(schedule, 'a list of {name, recurrence, minSize, maxSize, desiredCapacity}'), { default: [], description: 'Scheduled actions.' }),
    },
    { description: 'Scaling policies.' },
  ),
  database: group(
    {
      // Aurora User Guide, "Supported DB engines for DB instance classes" (infra/aws/aurora-postgres.ts).
      instanceClass: key(text('an Aurora PostgreSQL instance class such as db.r6g.large', /^db\./), {
        default: byEnv({ dev: 'db.t4g.medium', staging: 'db.t4g.medium', prod: 'db.r6g.large' }),
        description: 'Aurora PostgreSQL 15 instance class of the writer and of every reader (no micro/small, no `db.m*`; not `db.t*` in prod).',
        // Which classes Aurora PostgreSQL offers: AWS rule rds-aurora-instance-class (infra/rules/rds.ts).
        checks: [
          {
            doc: 'not burstable (db.t*) in prod',
            test: (v, c) => {
              const verdict = checkAuroraInstanceClass(v);
              return c.prod && verdict.ok && verdict.burstable ? `got ${show(v)}, expected a memory-optimized class (db.r6g.large or larger) in prod: AWS recommends the burstable db.t* classes for development and test only` : undefined;
            },
          },
        ],
      }),
      // One of the released versions AWS lists (AWS rule rds-aurora-postgresql-engine-version, which
      // names them), upgraded by changing this key: automatic minor upgrades are off
      // (rds-pinned-version-no-auto-minor-upgrade). The parameter group family follows its major.
      engineVersion: key(text(`an Aurora PostgreSQL version (major.minor), one of ${AURORA_POSTGRES_VERSIONS.join(', ')}`, /^\d+(\.\d+)*$/), {
        default: AURORA_POSTGRES_ENGINE_VERSION,
        description: `Aurora PostgreSQL version the cluster runs, pinned: one of the released versions AWS's release notes list, major.minor as \`aws rds describe-db-engine-versions --engine aurora-postgresql\` shows them (default ${AURORA_POSTGRES_ENGINE_VERSION}, the long-term-support minor). Automatic minor upgrades are off; a minor upgrade is a change of this key.`,
      }),
      // The RDS primary + read replicas design's keys (AWS refuses read replicas of a source whose
      // password Secrets Manager manages): README, "Migrating a stack from RDS read replicas".
      allocatedStorageGb: removed({ why: 'the Aurora cluster volume grows by itself, up to 128 TiB, and is billed for what it holds: remove the key' }),
      maxAllocatedStorageGb: removed({ why: 'the Aurora cluster volume grows by itself, up to 128 TiB, and is billed for what it holds: remove the key' }),
      multiAz: removed({ use: 'database.readers', why: 'an Aurora cluster fails over by promoting a reader in another availability zone: multiAz true → readers 1 or more, false → readers 0' }),
      readReplicas: removed({ use: 'database.readers', why: 'Aurora Replicas behind the reader endpoint, each in its own availability zone, are also the failover targets: readReplicas N → readers N' }),
      readers: key(int(0, AURORA_MAX_READERS), {
        // Staging, like prod, must survive a zone's loss (the policy pack's rds-multi-az).
        default: byEnv({ dev: 0, staging: 1, prod: 2 }),
        description: "Aurora Replicas besides the writer, each in an availability zone of its own (none in the writer's): the reader endpoint's instances and the failover targets.",
        checks: [
          // Each in a zone of its own, apart from the writer's: AWS rule rds-aurora-readers-distinct-zones (infra/rules/rds.ts).
          { doc: '≥ 1 in prod', test: (v, c) => (c.prod && v < 1 ? `got ${v}, expected at least 1 in prod: a failover promotes a reader in another availability zone` : undefined) },
        ],
      }),
      backupRetentionDays: key(int(1, 35), { default: byEnv({ dev: 1, staging: 1, prod: 14 }), description: 'Automated backup retention, days.' }),
    },
    { description: 'The replicated PostgreSQL database: an Aurora PostgreSQL cluster on AWS, CloudNativePG on Kubernetes.' },
  ),
  shards: key(int(1, 64), { default: byEnv({ dev: 2, staging: 2, prod: 4 }), description: 'Capture buckets (shards).' }),
  alarmEmail: optional(text('an email address', /^[^@\s]+@[^@\s]+\.[^@\s]+$/), { description: 'Subscribed to the alarm topic.' }),
  latencyP99AlarmSeconds: key(number(0, 60, 'a number of seconds from 0 to 60'), { default: 0.5, description: 'p99 latency above which the latency alarm fires, seconds.' }),
  runtimeBundle: key(text('a path to the runtime bundle (.tar.gz)'), {
    default: derived('`dist/bundle/onnx-fleet-runtime-linux-<arch>.tar.gz`', (c) => `dist/bundle/onnx-fleet-runtime-linux-${c.arch}.tar.gz`),
    description: 'Path of the runtime bundle to deploy (built by `npm run bundle`), relative to the project.',
  }),
  modelRepository: key(text('a path to a model repository'), {
    default: 'models',
    description:
      "Local model repository (relative to the project) that becomes the model store's initial release on AWS: each of its models is published once, while the store holds no version of it; later releases are `onnx-fleet models publish`, and `pulumi up` never overwrites them.",
  }),
  modelStore: group(
    {
      location: optional(text('an S3 location s3://bucket[/prefix][?endpoint=…&region=…]', /^s3:\/\//), {
        description:
          'An existing model store: the S3 location every runtime polls (AWS: a bucket in the stack\'s region, read through the instance role; Kubernetes: any S3-compatible store). Absent on AWS: the stack creates a versioned, encrypted bucket (prefix `models/`); absent on Kubernetes: no store (`kubernetes.modelClaim` or the image\'s /models).',
        checks: [{ doc: 'a valid S3 location; on AWS without `?endpoint=`', test: (v, c) => (v === undefined ? undefined : modelStoreProblem(v, c.platform)) }],
      }),
      kmsKeyArn: optional(text('a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias', KMS_KEY_ARN), {
        description: 'The KMS key an existing store (`modelStore.location`) encrypts its objects with (SSE-KMS): instances may decrypt with it through S3 only. A created store uses the stack key.',
        checks: [
          { doc: 'only with `modelStore.location`', test: (v, c) => (v !== undefined && c.modelStore?.location === undefined ? `got ${show(v)}, but ${k('modelStore.location')} is not set: a store the stack creates is encrypted with the stack key` : undefined) },
          { doc: 'AWS only', test: (v, c) => (v !== undefined && c.platform !== 'aws' ? `got ${show(v)}, expected no KMS key on the ${c.platform} target (the pods' credentials are granted outside the stack)` : undefined) },
        ],
      }),
      noncurrentDays: key(int(1, 3650), { default: 90, description: 'A created store: days an overwritten object (an earlier `release.json`) is kept as a noncurrent version before it expires. Published versions are never overwritten or expired.' }),
    },
    { description: 'Where model releases live: every runtime polls it, `onnx-fleet models` publishes to it. A model release changes objects in the store, never the launch template or the pod template.' },
  ),
  modelControlMode: key(oneOf(MODEL_CONTROL_MODES), {
    default: 'poll',
    description: "Triton's model control mode of every runtime: `poll` follows the model store (new releases load beside the serving version, no instance refresh); `none` loads the current release at boot only; `explicit` also opens the repository API's load and unload (admin tokens).",
  }),
  repositoryPollSecs: key(int(1, 3600), { default: DEFAULT_REPOSITORY_POLL_SECS, description: 'Poll mode: seconds between two scans of the model store by each runtime (a release reaches the fleet within this plus its load time).' }),
  kubernetes: platformOnly(
    'kubernetes',
    object({
      context: optional(text('a kubeconfig context name'), { description: 'kubeconfig context to deploy to (absent: the current context).' }),
      namespace: key(text('a namespace name'), { default: 'onnx-fleet', description: 'Namespace of the workload.' }),
      image: key(text('a container image reference'), {
        required: true,
        missing: "missing, expected a container image reference (build it from the repository's Dockerfile)",
        description: "Runtime image, built from the repository's Dockerfile.",
        checks: [
          {
            doc: 'a pinned tag or digest in prod',
            test: (image, c) => (c.prod && (image.endsWith(':latest') || !/[:@]/.test(image.split('/').pop() ?? '')) ? `got ${show(image)}, expected a pinned tag or digest in prod (not :latest)` : undefined),
          },
        ],
      }),
      ingressClass: key(text('an IngressClass name'), { default: 'nginx', description: 'IngressClass of the Ingress.' }),
      ingressNamespace: key(text('a namespace name'), { default: 'ingress-nginx', description: 'Namespace of the ingress controller (network policies admit it).' }),
      monitoringNamespace: key(text('a namespace name'), { default: 'monitoring', description: 'Namespace of Prometheus (network policies admit it).' }),
      host: optional(text('a host name'), { description: 'Host of the Ingress rule (absent: any host).' }),
      modelClaim: optional(text('a PersistentVolumeClaim name'), {
        description: "PersistentVolumeClaim with a model repository, mounted read-only, for clusters without an S3-compatible store (absent: `modelStore.location`, else the image's /models). With a claim a model release is a change to the volume the runtimes poll.",
        checks: [{ doc: 'not with `modelStore.location`', test: (v, c) => (v !== undefined && c.modelStore?.location !== undefined ? `got ${show(v)}, but ${k('modelStore.location')} is set too; expected one model repository: the S3 store (preferred) or a claim` : undefined) }],
      }),
      serviceAccountRoleArn: optional(text('an IAM role ARN (arn:aws:iam::<account>:role/<name>)', /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/), {
        description: 'IAM role the runtime pods assume through IAM roles for service accounts (EKS): their credentials for the model store and the capture shards. Absent: the `AWS_*` keys of `kubernetes.storage.credentialsSecret`.',
      }),
      modelCacheSize: key(text('a quantity such as 4Gi'), { default: '4Gi', description: "Size limit of each pod's local copy of the model store (an emptyDir): the versions it serves, plus one being loaded." }),
      cpu: key(text('a CPU quantity such as "2"'), { default: '2', description: 'CPU request and limit per pod.' }),
      memory: key(text('a memory quantity such as "2Gi"'), { default: '2Gi', description: 'Memory request and limit per pod.' }),
      database: group(
        {
          mode: key(oneOf(['cnpg', 'external'] as const), { default: 'cnpg', description: 'In-cluster CloudNativePG cluster, or an external PostgreSQL.' }),
          writerHost: optional(text('a host name'), { description: 'External mode: the writer host.' }),
          readerHost: optional(text('a host name'), { description: 'External mode: the reader host (absent: the writer).' }),
          secretName: optional(text('a Secret name'), { description: 'External mode: Secret with the credentials.' }),
          storageSize: key(text('a quantity such as 20Gi'), { default: byEnv({ dev: '20Gi', staging: '20Gi', prod: '100Gi' }), description: 'CloudNativePG volume size per instance.' }),
          operatorNamespace: key(text('a namespace name'), { default: 'cnpg-system', description: 'Namespace of the CloudNativePG operator.' }),
        },
        {
          description: 'The database on Kubernetes.',
          checks: [
            {
              doc: 'external mode needs writerHost and secretName',
              test: (db) => (db.mode === 'external' && (db.writerHost === undefined || db.secretName === undefined) ? 'mode "external" needs writerHost and secretName (readerHost optional)' : undefined),
            },
          ],
        },
      ),
      storage: group(
        {
          endpoint: optional(text('an S3 endpoint URL'), { description: 'S3-compatible endpoint of the shard buckets (absent: AWS S3).' }),
          bucketPrefix: key(text('a bucket name prefix'), { default: 'onnx-fleet-capture', description: 'Prefix of the shard bucket names.' }),
          credentialsSecret: key(text('a Secret name'), { default: 'onnx-fleet-storage', description: 'Secret with the S3 credentials.' }),
        },
        { description: 'Capture storage on Kubernetes.' },
      ),
    }),
    {
      missing: `missing, expected an object with at least {"image": "<runtime image>"} when ${k('platform')} is kubernetes`,
      description: 'The Kubernetes target (required when `platform` is `kubernetes`, an error otherwise).',
    },
  ),
};
