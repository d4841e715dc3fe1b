/**
 * `onnx-fleet synth --stack <name> [--config-file <path>] [--json]`: runs the Pulumi program
 * in-process under mocks with a stack's config file and prints the resource graph — what
 * `pulumi preview` shows for a new stack — with no cloud account and no Pulumi CLI. Values the
 * cloud assigns on deploy (ids, ARNs, DNS names, and whatever is built from them) are shown as
 * `[unknown]`, as preview shows them, not invented and not dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, parseStackConfig, StackConfig } from './config';
import { projectRoot } from './program';
import { ResourceRecord, runProgramUnderMocks, UNKNOWN } from './testing/mock-run';

const USAGE = 'usage: onnx-fleet synth --stack <name> [--config-file <path>] [--json]';

/** Finds the repository's stacks/ directory (from sources or from dist/). */
export function stacksDir(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'Pulumi.yaml')) && fs.existsSync(path.join(dir, 'stacks'))) return path.join(dir, 'stacks');
  }
  return path.resolve('stacks');
}

/** Where a `{secure: <ciphertext>}` value sits in a config value, if anywhere. */
function securePath(v: unknown, at: string): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  if (!Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === 'string') return at;
  for (const [k, x] of Object.entries(v)) {
    const found = securePath(x, Array.isArray(v) ? `${at}[${k}]` : `${at}.${k}`);
    if (found) return found;
  }
  return undefined;
}

/**
 * A stack file's `config:` block as Pulumi hands it to a program: objects and lists as JSON.
 * Secrets (`pulumi config set --secret`) are ciphertext only the stack's secrets provider can
 * decrypt, so an offline read refuses them by key instead of validating ciphertext. Commands
 * that only read the scaling settings (plan, simulate) pass `omitSecrets`: a secret key is left
 * out instead (the schema then says so if the key was required).
 */
export function readStackFile(file: string, options: { omitSecrets?: boolean } = {}): Record<string, string> {
  const doc = YAML.parse(fs.readFileSync(file, 'utf8')) ?? {};
  const config = (doc.config ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(config)) {
    const secret = securePath(v, k);
    if (secret && options.omitSecrets) {
      delete config[k];
    } else if (secret) {
      throw new ConfigError(`${secret}: a secret (secure: ciphertext), which only the stack's secrets provider can decrypt; expected a plain value for offline synth: run \`pulumi preview\`, or synth a copy of the file with the plain value (--config-file)`);
    }
  }
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Paths of the inputs `pulumi preview` cannot know yet, e.g. `vpcId`, `subnets[1]`. */
export function unknownInputs(value: unknown, at = ''): string[] {
  if (value === UNKNOWN) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownInputs(v, `${at}[${i}]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => unknownInputs(v, at ? `${at}.${k}` : k));
  return [];
}

/** Settings worth seeing in the tree, per resource type. */
const KEY_SETTINGS: Record<string, string[]> = {
  'aws:ec2/vpc:Vpc': ['cidrBlock'],
  'aws:ec2/subnet:Subnet': ['availabilityZone', 'cidrBlock'],
  'aws:lb/loadBalancer:LoadBalancer': ['internal', 'dropInvalidHeaderFields', 'enableDeletionProtection'],
  'aws:lb/targetGroup:TargetGroup': ['port', 'deregistrationDelay', 'loadBalancingAlgorithmType', 'healthCheck'],
  'aws:lb/listener:Listener': ['port', 'protocol'],
  'aws:autoscaling/group:Group': ['minSize', 'maxSize', 'healthCheckType', 'healthCheckGracePeriod'],
  'aws:ec2/launchTemplate:LaunchTemplate': ['instanceType', 'imageId', 'userData'],
  'aws:rds/instance:Instance': ['engine', 'instanceClass', 'multiAz', 'availabilityZone', 'replicateSourceDb'],
  'aws:rds/cluster:Cluster': ['engine', 'engineVersion', 'manageMasterUserPassword', 'backupRetentionPeriod', 'deletionProtection'],
  'aws:rds/clusterInstance:ClusterInstance': ['instanceClass', 'availabilityZone', 'promotionTier'],
  'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule': ['fromPort', 'cidrIpv4', 'description'],
  'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule': ['fromPort', 'cidrIpv4', 'description'],
  'pulumi-nodejs:dynamic/fleet:Release': ['desiredConfiguration', 'preferences'],
  'pulumi-nodejs:dynamic/models:InitialRelease': ['location'],
  'kubernetes:apps/v1:Deployment': ['spec'],
  'kubernetes:autoscaling/v2:HorizontalPodAutoscaler': ['spec'],
  'kubernetes:postgresql.cnpg.io/v1:Cluster': ['spec'],
};

function summary(r: ResourceRecord): string {
  const keys = KEY_SETTINGS[r.type] ?? [];
  const parts = keys
    .filter((k) => r.inputs[k] !== undefined)
    .map((k) => {
      const v = r.inputs[k];
      if (v === UNKNOWN) return `${k}=${UNKNOWN}`;
      if (k === 'userData') return `userData=${String(v).length} bytes`;
      if (k === 'healthCheck' && v && typeof v === 'object') {
        const h = v as Record<string, unknown>;
        return `healthCheck=${h.path} every ${h.interval}s (${h.healthyThreshold}/${h.unhealthyThreshold})`;
      }
      if (k === 'desiredConfiguration') {
        const d = v as { LaunchTemplate?: { Version?: string }; MixedInstancesPolicy?: { LaunchTemplate?: { LaunchTemplateSpecification?: { Version?: string } } } };
        return `version=${d.LaunchTemplate?.Version ?? d.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.Version}${d.MixedInstancesPolicy ? ' (mixed instances)' : ''}`;
      }
      if (k === 'preferences') {
        const p = v as { AutoRollback?: boolean; CheckpointPercentages?: number[]; BakeTime?: number; AlarmSpecification?: { Alarms?: string[] } };
        return `autoRollback=${Boolean(p.AutoRollback)} checkpoints=${(p.CheckpointPercentages ?? []).join('/')} bake=${p.BakeTime ?? 0}s alarms=${(p.AlarmSpecification?.Alarms ?? []).length}`;
      }
      if (k === 'spec' && r.type === 'kubernetes:apps/v1:Deployment') {
        const c = (v as any).template?.spec?.containers?.[0];
        return `readiness=${c?.readinessProbe?.httpGet?.path} preStop=${c?.lifecycle?.preStop?.sleep?.seconds}s grace=${(v as any).template?.spec?.terminationGracePeriodSeconds}s`;
      }
      if (k === 'spec' && r.type.includes('HorizontalPodAutoscaler')) return `replicas=${(v as any).minReplicas}..${(v as any).maxReplicas}`;
      if (k === 'spec' && r.type.includes('Cluster')) return `instances=${(v as any).instances}`;
      return `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
    });
  return parts.length ? `  ${parts.join(' ')}` : '';
}

export function renderTree(records: ResourceRecord[]): string {
  const key = (type: string | null, name: string | null) => (type === null ? null : `${type}::${name}`);
  const children = new Map<string | null, ResourceRecord[]>();
  for (const r of records) {
    const k = key(r.parentType, r.parent);
    children.set(k, [...(children.get(k) ?? []), r]);
  }
  const lines: string[] = [];
  const visit = (parent: string | null, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${r.type}  ${r.name}${summary(r)}`);
      visit(key(r.type, r.name), prefix + (last ? '   ' : '│  '));
    });
  };
  visit(null, '');
  return lines.join('\n');
}

/** The AWS target uploads the runtime bundle: build it first when the default one is missing. */
async function ensureBundle(config: StackConfig): Promise<void> {
  if (config.platform !== 'aws') return;
  const file = path.resolve(projectRoot(), config.runtimeBundle);
  if (fs.existsSync(file)) return;
  const { buildBundle, artifactName } = await import('../packaging/build');
  if (path.basename(file) !== artifactName(config.arch)) return; // a custom path: Artifacts reports it missing
  process.stderr.write(`onnx-fleet synth: ${path.relative(process.cwd(), file)} missing; building the ${config.arch} runtime bundle first\n`);
  await buildBundle(config.arch, path.dirname(file));
}

export async function synthCommand(argv: string[]): Promise<number> {
  let stack: string | undefined;
  let file: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--json') json = true;
    else if (flag === '--stack') stack = inline ?? argv[++i];
    else if (flag === '--config-file') file = inline ?? argv[++i];
    else {
      process.stderr.write(`onnx-fleet synth: unknown option ${JSON.stringify(argv[i])}\n${USAGE}\n`);
      return 2;
    }
  }
  if (!stack && !file) {
    process.stderr.write(`onnx-fleet synth: --stack or --config-file is required\n${USAGE}\n`);
    return 2;
  }
  const configFile = file ? path.resolve(file) : path.join(stacksDir(), `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(configFile)) {
    const known = fs.existsSync(stacksDir()) ? fs.readdirSync(stacksDir()).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice(7, -5)) : [];
    process.stderr.write(`onnx-fleet synth: no stack file ${configFile}; stacks: ${known.join(', ') || 'none'}\n`);
    return 2;
  }
  const stackName = stack ?? path.basename(configFile).replace(/^Pulumi\.|\.yaml$/g, '');
  let records: ResourceRecord[];
  try {
    const config = readStackFile(configFile);
    await ensureBundle(parseStackConfig(config));
    records = await runProgramUnderMocks(config, stackName, undefined, { preview: true });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`onnx-fleet synth: invalid stack config ${configFile}:\n  ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (json) process.stdout.write(JSON.stringify(records.map(({ type, name, parent, inputs }) => ({ type, name, parent, inputs })), null, 2) + '\n');
  else {
    const unknown = records.reduce((n, r) => n + unknownInputs(r.inputs).length, 0);
    process.stdout.write(`${stackName}: ${records.length} resources\n${renderTree(records)}\n${unknown} input values are unknown until deploy (shown as ${UNKNOWN}, as pulumi preview shows them)\n`);
  }
  return 0;
}
