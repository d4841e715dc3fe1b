/**
 * The stack configuration: one typed schema for every stack (AWS or Kubernetes target), the
 * defaults in one place, and validation whose errors name the key, the value received and what
 * is allowed. Reads a flat map of `namespace:key` → value, as Pulumi stores it (objects as JSON).
 */
import { amiLookupHint, isAmiId } from './aws/ami';

// The AWS rules are checked by parseStackConfig; they use this module only when called (no import-time cycle).
import { configFindings } from './rules';

export const NAMESPACE = 'onnx-fleet';

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export const PLATFORMS = ['aws', 'kubernetes'] as const;
export const ALGORITHMS = ['round_robin', 'least_outstanding_requests', 'weighted_random'] as const;
export const ARCHES = ['x64', 'arm64'] as const;
export const NAT_STRATEGIES = ['single', 'perAz'] as const;

export type Environment = (typeof ENVIRONMENTS)[number];
export type Platform = (typeof PLATFORMS)[number];
export type Algorithm = (typeof ALGORITHMS)[number];
export type Arch = (typeof ARCHES)[number];

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

export interface SpotConfig {
  enabled: boolean;
  /** On-demand instances always kept (base capacity). */
  onDemandBase: number;
  /** Percentage of capacity above the base that is on-demand. */
  onDemandPercentage: number;
  /** Instance types the group may use (first = the launch template's). */
  instanceTypes: string[];
}

export interface ScheduleConfig {
  name: string;
  /** Cron expression (UTC unless timeZone). */
  recurrence: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  timeZone?: string;
}

export interface ScalingConfig {
  /** ALB requests per target per minute the group aims for. */
  requestsPerTarget: number;
  /** Average CPU percent the group aims for. */
  cpuTarget: number;
  predictive: boolean;
  schedules: ScheduleConfig[];
}

export interface DatabaseConfig {
  instanceClass: string;
  engineVersion: string;
  allocatedStorageGb: number;
  maxAllocatedStorageGb: number;
  multiAz: boolean;
  readReplicas: number;
  backupRetentionDays: number;
}

export interface KubernetesConfig {
  /** kubeconfig context to deploy to; absent = the current context. */
  context?: string;
  namespace: string;
  image: string;
  ingressClass: string;
  ingressNamespace: string;
  monitoringNamespace: string;
  host?: string;
  /** PersistentVolumeClaim with the model repository; absent = the image's /models. */
  modelClaim?: string;
  cpu: string;
  memory: string;
  /** In-cluster CloudNativePG database, or an external endpoint. */
  database: { mode: 'cnpg' | 'external'; writerHost?: string; readerHost?: string; secretName?: string; storageSize: string; operatorNamespace: string };
  /** S3-compatible endpoint for the shard buckets (absent = AWS S3) and the Secret holding credentials. */
  storage: { endpoint?: string; bucketPrefix: string; credentialsSecret: string };
}

export interface StackConfig {
  environment: Environment;
  platform: Platform;
  region: string;
  /** Names of the availability zones used, in order. */
  availabilityZones: string[];
  vpcCidr: string;
  natGateways: (typeof NAT_STRATEGIES)[number];
  arch: Arch;
  /** The fleet's AMI, pinned (AWS target only): changing it is a deliberate release. */
  amiId?: string;
  instanceType: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  spot: SpotConfig;
  warmPool: { enabled: boolean; minSize: number };
  loadBalancingAlgorithm: Algorithm;
  certificateArn?: string;
  /** Percentage of traffic sent to the canary fleet (0 = no canary). */
  canaryWeight: number;
  scaling: ScalingConfig;
  database: DatabaseConfig;
  shards: number;
  alarmEmail?: string;
  /** p99 latency above which the latency alarm fires, seconds. */
  latencyP99AlarmSeconds: number;
  /** Path of the runtime bundle to deploy (built by `npm run bundle`). */
  runtimeBundle: string;
  /** Path of the model repository to deploy. */
  modelRepository: string;
  kubernetes?: KubernetesConfig;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, string | undefined>;
const key = (k: string) => `${NAMESPACE}:${k}`;
const show = (v: unknown) => JSON.stringify(v);

class Reader {
  constructor(private readonly raw: Raw) {}

  has(k: string): boolean {
    return this.raw[key(k)] !== undefined;
  }

  string(k: string, fallback: string): string;
  string(k: string, fallback?: string): string | undefined;
  string(k: string, fallback?: string): string | undefined {
    const v = this.raw[key(k)];
    return v === undefined || v === '' ? fallback : v;
  }

  oneOf<T extends string>(k: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(k, fallback);
    if (!allowed.includes(v as T)) throw new ConfigError(`${key(k)}: got ${show(v)}, expected one of ${allowed.join(', ')}`);
    return v as T;
  }

  int(k: string, fallback: number, min: number, max: number): number {
    const v = this.raw[key(k)];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < min || n > max) {
      // Numbers are shown as numbers (YAML `shards: 0` arrives as "0"); anything else quoted.
      const got = /^-?\d+(\.\d+)?$/.test(v.trim()) ? v.trim() : show(v);
      throw new ConfigError(`${key(k)}: got ${got}, expected an integer from ${min} to ${max}`);
    }
    return n;
  }

  bool(k: string, fallback: boolean): boolean {
    const v = this.raw[key(k)];
    if (v === undefined) return fallback;
    if (v !== 'true' && v !== 'false') throw new ConfigError(`${key(k)}: got ${show(v)}, expected true or false`);
    return v === 'true';
  }

  object(k: string): Record<string, unknown> | undefined {
    const v = this.raw[key(k)];
    if (v === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw new ConfigError(`${key(k)}: got ${show(v)}, expected an object`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${key(k)}: got ${show(v)}, expected an object`);
    return parsed as Record<string, unknown>;
  }
}

/** Typed access to one field of an object-valued key, with errors naming `key.field`. */
function field<T>(k: string, obj: Record<string, unknown> | undefined, name: string, check: (v: unknown) => v is T, expected: string, fallback: T): T {
  const v = obj?.[name];
  if (v === undefined) return fallback;
  if (!check(v)) throw new ConfigError(`${key(k)}.${name}: got ${show(v)}, expected ${expected}`);
  return v;
}

const isInt = (min: number, max: number) => (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every(isString);

function onlyFields(k: string, obj: Record<string, unknown> | undefined, allowed: string[]): void {
  for (const f of Object.keys(obj ?? {})) {
    if (!allowed.includes(f)) throw new ConfigError(`${key(k)}: unknown field ${show(f)}, expected fields: ${allowed.join(', ')}`);
  }
}

const ALL_KEYS = [
  'environment', 'platform', 'availabilityZones', 'vpcCidr', 'natGateways', 'arch', 'amiId', 'instanceType', 'minSize', 'maxSize', 'desiredCapacity', 'spot', 'warmPool',
  'loadBalancingAlgorithm', 'certificateArn', 'canaryWeight', 'scaling', 'database', 'shards', 'alarmEmail', 'latencyP99AlarmSeconds', 'runtimeBundle', 'modelRepository', 'kubernetes',
];

/** Edit distance, to suggest the key a typo meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/**
 * Reads and validates a stack's configuration. `raw` maps `namespace:key` to the stored string.
 * Checks each key's type and range, then the AWS rules that apply to stack keys (infra/rules):
 * the error names the key and the rule.
 */
export function parseStackConfig(raw: Raw): StackConfig {
  const config = readStackConfig(raw);
  const broken = configFindings(config)[0];
  if (broken) throw new ConfigError(`${broken.where.includes(':') ? broken.where : key(broken.where)}: ${broken.message} (AWS rule ${broken.rule}, see infra/rules/RULES.md)`);
  return config;
}

/** parseStackConfig without the AWS rules: each key's type, range and the platform's own invariants. */
export function readStackConfig(raw: Raw): StackConfig {
  for (const k of Object.keys(raw)) {
    const name = k.slice(NAMESPACE.length + 1);
    if (k.startsWith(`${NAMESPACE}:`) && !ALL_KEYS.includes(name)) {
      const near = ALL_KEYS.filter((known) => distance(name, known) <= 2);
      const hint = near.length ? `did you mean ${near.map(key).join(' or ')}? ` : '';
      throw new ConfigError(`${k}: unknown key; ${hint}known keys: ${ALL_KEYS.map(key).join(', ')}`);
    }
  }
  const r = new Reader(raw);
  const environment = r.oneOf('environment', ENVIRONMENTS, 'dev');
  const prod = environment === 'prod';
  const platform = r.oneOf('platform', PLATFORMS, 'aws');
  const region = raw['aws:region'];
  if (!region) throw new ConfigError(`aws:region: missing, expected one of ${Object.keys(REGION_AZS).join(', ')}`);
  const known = REGION_AZS[region];
  if (!known) throw new ConfigError(`aws:region: got ${show(region)}, expected one of ${Object.keys(REGION_AZS).join(', ')}`);
  const azCount = r.int('availabilityZones', prod ? 3 : 2, 2, 3);
  if (azCount > known.length) {
    throw new ConfigError(`${key('availabilityZones')}: got ${azCount}, but ${region} has only ${known.length} availability zones (${known.join(', ')}); expected 2 to ${Math.min(3, known.length)}`);
  }
  const vpcCidr = r.string('vpcCidr', '10.40.0.0/16');
  if (!/^10\.\d{1,3}\.0\.0\/16$/.test(vpcCidr)) throw new ConfigError(`${key('vpcCidr')}: got ${show(vpcCidr)}, expected a private /16 such as 10.40.0.0/16`);

  const minSize = r.int('minSize', prod ? 3 : 1, 0, 1000);
  const maxSize = r.int('maxSize', prod ? 12 : 3, 1, 1000);
  if (maxSize < minSize) throw new ConfigError(`${key('maxSize')}: got ${maxSize}, expected at least ${key('minSize')} (${minSize})`);
  const desiredCapacity = r.int('desiredCapacity', minSize, 0, 1000);
  if (desiredCapacity < minSize || desiredCapacity > maxSize) {
    throw new ConfigError(`${key('desiredCapacity')}: got ${desiredCapacity}, expected from ${key('minSize')} (${minSize}) to ${key('maxSize')} (${maxSize})`);
  }
  if (prod && minSize < azCount) throw new ConfigError(`${key('minSize')}: got ${minSize}, expected at least one instance per availability zone (${azCount}) in prod`);

  const instanceType = r.string('instanceType', 'c7i.large');
  const arch = r.oneOf('arch', ARCHES, 'x64');
  const graviton = /^[a-z]+\d+g[a-z]*\./.test(instanceType);
  if (graviton !== (arch === 'arm64')) {
    throw new ConfigError(`${key('instanceType')}: got ${show(instanceType)}, which is ${graviton ? 'arm64 (Graviton)' : 'x64'}, but ${key('arch')} is ${arch}; expected a matching instance type or arch`);
  }

  const amiId = r.string('amiId');

  const spotRaw = r.object('spot');
  onlyFields('spot', spotRaw, ['enabled', 'onDemandBase', 'onDemandPercentage', 'instanceTypes']);
  const spot: SpotConfig = {
    enabled: field('spot', spotRaw, 'enabled', isBool, 'true or false', false),
    onDemandBase: field('spot', spotRaw, 'onDemandBase', isInt(0, 1000), 'an integer from 0 to 1000', prod ? azCount : 0),
    onDemandPercentage: field('spot', spotRaw, 'onDemandPercentage', isInt(0, 100), 'an integer from 0 to 100', prod ? 50 : 0),
    instanceTypes: field('spot', spotRaw, 'instanceTypes', isStringArray, 'a non-empty list of instance types', [instanceType]),
  };
  const warmRaw = r.object('warmPool');
  onlyFields('warmPool', warmRaw, ['enabled', 'minSize']);
  const warmPool = { enabled: field('warmPool', warmRaw, 'enabled', isBool, 'true or false', false), minSize: field('warmPool', warmRaw, 'minSize', isInt(0, 100), 'an integer from 0 to 100', 1) };

  const loadBalancingAlgorithm = r.oneOf('loadBalancingAlgorithm', ALGORITHMS, 'least_outstanding_requests');
  const certificateArn = r.string('certificateArn');
  if (certificateArn !== undefined && !/^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(certificateArn)) {
    throw new ConfigError(`${key('certificateArn')}: got ${show(certificateArn)}, expected an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)`);
  }
  const certificateRegion = certificateArn?.split(':')[3];
  if (certificateArn !== undefined && platform === 'aws' && certificateRegion !== region) {
    throw new ConfigError(`${key('certificateArn')}: got ${show(certificateArn)}, expected a certificate in ${region}: an ALB uses ACM certificates from its own region only`);
  }
  if (prod && certificateArn === undefined && platform === 'aws') throw new ConfigError(`${key('certificateArn')}: missing, expected an ACM certificate ARN: prod serves HTTPS only`);
  const canaryWeight = r.int('canaryWeight', 0, 0, 50);

  const scalingRaw = r.object('scaling');
  onlyFields('scaling', scalingRaw, ['requestsPerTarget', 'cpuTarget', 'predictive', 'schedules']);
  const schedulesRaw = scalingRaw?.schedules ?? [];
  if (!Array.isArray(schedulesRaw)) throw new ConfigError(`${key('scaling')}.schedules: got ${show(schedulesRaw)}, expected a list of {name, recurrence, minSize, maxSize, desiredCapacity}`);
  const schedules: ScheduleConfig[] = schedulesRaw.map((s: Record<string, unknown>, i: number) => {
    const where = `scaling.schedules[${i}]`;
    const sched = {
      name: field(where, s, 'name', isString, 'a name', ''),
      recurrence: field(where, s, 'recurrence', (v): v is string => isString(v) && v.trim().split(/\s+/).length === 5, 'a 5-field cron expression', ''),
      minSize: field(where, s, 'minSize', isInt(0, 1000), 'an integer from 0 to 1000', -1),
      maxSize: field(where, s, 'maxSize', isInt(1, 1000), 'an integer from 1 to 1000', -1),
      desiredCapacity: field(where, s, 'desiredCapacity', isInt(0, 1000), 'an integer from 0 to 1000', -1),
      timeZone: s.timeZone === undefined ? undefined : field(where, s, 'timeZone', isString, 'an IANA time zone', 'UTC'),
    };
    for (const f of ['name', 'recurrence', 'minSize', 'maxSize', 'desiredCapacity'] as const) {
      if (sched[f] === '' || sched[f] === -1) throw new ConfigError(`${key(where)}.${f}: missing`);
    }
    if (sched.maxSize < sched.minSize || sched.desiredCapacity < sched.minSize || sched.desiredCapacity > sched.maxSize) {
      throw new ConfigError(`${key(where)}: got min ${sched.minSize}, desired ${sched.desiredCapacity}, max ${sched.maxSize}, expected min ≤ desired ≤ max`);
    }
    return sched;
  });
  const scaling: ScalingConfig = {
    requestsPerTarget: field('scaling', scalingRaw, 'requestsPerTarget', isInt(1, 1_000_000), 'an integer from 1 to 1000000', 6000),
    cpuTarget: field('scaling', scalingRaw, 'cpuTarget', isInt(10, 95), 'an integer from 10 to 95', 60),
    predictive: field('scaling', scalingRaw, 'predictive', isBool, 'true or false', false),
    schedules,
  };

  const dbRaw = r.object('database');
  onlyFields('database', dbRaw, ['instanceClass', 'engineVersion', 'allocatedStorageGb', 'maxAllocatedStorageGb', 'multiAz', 'readReplicas', 'backupRetentionDays']);
  const database: DatabaseConfig = {
    instanceClass: field('database', dbRaw, 'instanceClass', (v): v is string => isString(v) && v.startsWith('db.'), 'an RDS instance class such as db.r6g.large', prod ? 'db.r6g.large' : 'db.t4g.medium'),
    // The major version only: RDS applies minor upgrades (autoMinorVersionUpgrade), and a pinned
    // minor would then show as drift that `pulumi up` tries to downgrade.
    engineVersion: field('database', dbRaw, 'engineVersion', (v): v is string => isString(v) && /^15(\.\d+)?$/.test(v), 'a PostgreSQL 15 version: 15 (recommended, minor upgrades by RDS) or 15.<minor>', '15'),
    allocatedStorageGb: field('database', dbRaw, 'allocatedStorageGb', isInt(20, 65536), 'an integer from 20 to 65536', prod ? 100 : 20),
    maxAllocatedStorageGb: field('database', dbRaw, 'maxAllocatedStorageGb', isInt(20, 65536), 'an integer from 20 to 65536', prod ? 1000 : 100),
    multiAz: field('database', dbRaw, 'multiAz', isBool, 'true or false', prod),
    readReplicas: field('database', dbRaw, 'readReplicas', isInt(0, 5), 'an integer from 0 to 5', prod ? 2 : 0),
    backupRetentionDays: field('database', dbRaw, 'backupRetentionDays', isInt(1, 35), 'an integer from 1 to 35', prod ? 14 : 1),
  };
  if (prod && !database.multiAz) throw new ConfigError(`${key('database')}.multiAz: got false, expected true: prod needs a standby in another availability zone`);
  if (database.readReplicas > azCount) {
    throw new ConfigError(`${key('database')}.readReplicas: got ${database.readReplicas}, expected at most ${azCount} (one per availability zone, each replica in a distinct zone)`);
  }
  if (database.maxAllocatedStorageGb < database.allocatedStorageGb) {
    throw new ConfigError(`${key('database')}.maxAllocatedStorageGb: got ${database.maxAllocatedStorageGb}, expected at least allocatedStorageGb (${database.allocatedStorageGb})`);
  }

  const shards = r.int('shards', prod ? 4 : 2, 1, 64);
  const alarmEmail = r.string('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) throw new ConfigError(`${key('alarmEmail')}: got ${show(alarmEmail)}, expected an email address`);
  const latencyP99AlarmSeconds = Number(r.string('latencyP99AlarmSeconds', '0.5'));
  if (!(latencyP99AlarmSeconds > 0 && latencyP99AlarmSeconds <= 60)) throw new ConfigError(`${key('latencyP99AlarmSeconds')}: got ${show(r.string('latencyP99AlarmSeconds'))}, expected a number of seconds from 0 to 60`);

  const config: StackConfig = {
    environment, platform, region, availabilityZones: known.slice(0, azCount), vpcCidr,
    natGateways: r.oneOf('natGateways', NAT_STRATEGIES, prod ? 'perAz' : 'single'),
    arch, amiId, instanceType, minSize, maxSize, desiredCapacity, spot, warmPool, loadBalancingAlgorithm, certificateArn, canaryWeight, scaling, database, shards, alarmEmail, latencyP99AlarmSeconds,
    runtimeBundle: r.string('runtimeBundle', `dist/bundle/onnx-fleet-runtime-linux-${arch}.tar.gz`),
    modelRepository: r.string('modelRepository', 'models'),
  };
  if (prod && config.natGateways !== 'perAz') throw new ConfigError(`${key('natGateways')}: got ${show(config.natGateways)}, expected "perAz" in prod (a NAT gateway per zone, so one zone's outage cannot cut the others off)`);
  if (platform === 'kubernetes') config.kubernetes = parseKubernetes(r, prod, database.readReplicas);
  else if (r.has('kubernetes')) throw new ConfigError(`${key('kubernetes')}: set, but ${key('platform')} is "aws"; expected ${key('platform')}: kubernetes or no ${key('kubernetes')} key`);
  checkAmiId(amiId, platform, region, arch);
  return config;
}

/** The fleet's image is pinned (see aws/ami.ts): required on AWS, never an SSM parameter. */
function checkAmiId(amiId: string | undefined, platform: Platform, region: string, arch: Arch): void {
  if (platform !== 'aws') {
    if (amiId !== undefined) throw new ConfigError(`${key('amiId')}: set, but ${key('platform')} is "${platform}"; expected no ${key('amiId')} key (the AMI is for the AWS fleet only)`);
    return;
  }
  const hint = amiLookupHint(region, arch);
  if (amiId === undefined) throw new ConfigError(`${key('amiId')}: missing, expected an AMI id pinned in the stack config (ami- followed by 8 or 17 hex digits); ${hint}`);
  if (amiId.startsWith('resolve:ssm:')) {
    throw new ConfigError(`${key('amiId')}: got ${show(amiId)}, expected a concrete AMI id, not an SSM parameter: AWS cannot roll back an instance refresh to a launch template that resolves its image from SSM; ${hint}`);
  }
  if (!isAmiId(amiId)) throw new ConfigError(`${key('amiId')}: got ${show(amiId)}, expected an AMI id: ami- followed by 8 or 17 lowercase hex digits; ${hint}`);
}

function parseKubernetes(r: Reader, prod: boolean, replicas: number): KubernetesConfig {
  const k = 'kubernetes';
  const raw = r.object(k);
  if (!raw) throw new ConfigError(`${key(k)}: missing, expected an object with at least {"image": "<runtime image>"} when ${key('platform')} is kubernetes`);
  onlyFields(k, raw, ['context', 'namespace', 'image', 'ingressClass', 'ingressNamespace', 'monitoringNamespace', 'host', 'modelClaim', 'cpu', 'memory', 'database', 'storage']);
  const image = field(k, raw, 'image', isString, 'a container image reference', '');
  if (!image) throw new ConfigError(`${key(k)}.image: missing, expected a container image reference (build it from the repository's Dockerfile)`);
  if (prod && (image.endsWith(':latest') || !/[:@]/.test(image.split('/').pop() ?? ''))) {
    throw new ConfigError(`${key(k)}.image: got ${show(image)}, expected a pinned tag or digest in prod (not :latest)`);
  }
  const db = (raw.database ?? {}) as Record<string, unknown>;
  onlyFields(`${k}.database`, db, ['mode', 'writerHost', 'readerHost', 'secretName', 'storageSize', 'operatorNamespace']);
  const mode = field(`${k}.database`, db, 'mode', (v): v is 'cnpg' | 'external' => v === 'cnpg' || v === 'external', 'one of cnpg, external', 'cnpg');
  if (mode === 'external' && (!isString(db.writerHost) || !isString(db.secretName))) {
    throw new ConfigError(`${key(k)}.database: mode "external" needs writerHost and secretName (readerHost optional)`);
  }
  const storage = (raw.storage ?? {}) as Record<string, unknown>;
  onlyFields(`${k}.storage`, storage, ['endpoint', 'bucketPrefix', 'credentialsSecret']);
  void replicas;
  return {
    context: raw.context === undefined ? undefined : field(k, raw, 'context', isString, 'a kubeconfig context name', ''),
    namespace: field(k, raw, 'namespace', isString, 'a namespace name', 'onnx-fleet'),
    image,
    ingressClass: field(k, raw, 'ingressClass', isString, 'an IngressClass name', 'nginx'),
    ingressNamespace: field(k, raw, 'ingressNamespace', isString, 'a namespace name', 'ingress-nginx'),
    monitoringNamespace: field(k, raw, 'monitoringNamespace', isString, 'a namespace name', 'monitoring'),
    host: raw.host === undefined ? undefined : field(k, raw, 'host', isString, 'a host name', ''),
    modelClaim: raw.modelClaim === undefined ? undefined : field(k, raw, 'modelClaim', isString, 'a PersistentVolumeClaim name', ''),
    cpu: field(k, raw, 'cpu', isString, 'a CPU quantity such as "2"', '2'),
    memory: field(k, raw, 'memory', isString, 'a memory quantity such as "2Gi"', '2Gi'),
    database: {
      mode,
      writerHost: db.writerHost as string | undefined,
      readerHost: db.readerHost as string | undefined,
      secretName: db.secretName as string | undefined,
      storageSize: field(`${k}.database`, db, 'storageSize', isString, 'a quantity such as 20Gi', prod ? '100Gi' : '20Gi'),
      operatorNamespace: field(`${k}.database`, db, 'operatorNamespace', isString, 'a namespace name', 'cnpg-system'),
    },
    storage: {
      endpoint: storage.endpoint === undefined ? undefined : field(`${k}.storage`, storage, 'endpoint', isString, 'an S3 endpoint URL', ''),
      bucketPrefix: field(`${k}.storage`, storage, 'bucketPrefix', isString, 'a bucket name prefix', 'onnx-fleet-capture'),
      credentialsSecret: field(`${k}.storage`, storage, 'credentialsSecret', isString, 'a Secret name', 'onnx-fleet-storage'),
    },
  };
}
