/**
 * Runs the Pulumi program in-process under `pulumi.runtime.setMocks`, with a stack's config,
 * and returns the resource graph: what `pulumi up` would create, with no CLI and no cloud.
 * Used by `onnx-fleet synth` and by the graph tests. Pulumi keeps global state: one run per
 * process (or per jest module registry).
 */
import * as pulumi from '@pulumi/pulumi';
import { parseStackConfig } from '../config';
import { definePlatform } from '../program';

export interface ResourceRecord {
  /** Pulumi type token, e.g. aws:autoscaling/group:Group. */
  type: string;
  /** Logical name. */
  name: string;
  /** Logical name of the parent, or null for top-level resources. */
  parent: string | null;
  /** Type token of the parent (names alone are not unique across types). */
  parentType: string | null;
  inputs: Record<string, unknown>;
  /** Resource option `ignoreChanges`, when set. */
  ignoreChanges?: string[];
  /** Resource option `protect`, when set. */
  protect?: boolean;
  /** Resource option `dependsOn`, as `<type>::<name>` of each resource named, when set. */
  dependsOn?: string[];
}

/** Plausible provider outputs for the few resources whose outputs other resources read. */
export function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const arn = `arn:aws:mock:${name}`;
  switch (type) {
    case 'aws:rds/instance:Instance':
      return { ...inputs, identifier: name, address: `${name}.mock.rds.amazonaws.com`, arn, masterUserSecrets: inputs.manageMasterUserPassword ? [{ secretArn: `arn:aws:secretsmanager:mock:000000000000:secret:rds!${name}`, secretStatus: 'active' }] : [] };
    case 'aws:rds/cluster:Cluster':
      // An Aurora cluster: its endpoints, and the master secret RDS manages for it (masterUserSecrets[0]).
      return {
        ...inputs,
        arn,
        clusterIdentifier: name,
        endpoint: `${name}.cluster-mock.rds.amazonaws.com`,
        readerEndpoint: `${name}.cluster-ro-mock.rds.amazonaws.com`,
        masterUserSecrets: inputs.manageMasterUserPassword ? [{ secretArn: `arn:aws:secretsmanager:mock:000000000000:secret:rds!cluster-${name}`, secretStatus: 'active', kmsKeyId: inputs.masterUserSecretKmsKeyId }] : [],
      };
    case 'aws:rds/clusterInstance:ClusterInstance':
      return { ...inputs, arn, identifier: name, endpoint: `${name}.mock.rds.amazonaws.com` };
    case 'aws:s3/bucket:Bucket':
      return { ...inputs, bucket: `${name}-bucket`, arn: `arn:aws:s3:::${name}-bucket` };
    case 'aws:lb/loadBalancer:LoadBalancer':
      return { ...inputs, arn, arnSuffix: `app/${name}/0123456789abcdef`, dnsName: `${name}.elb.amazonaws.com` };
    case 'aws:lb/targetGroup:TargetGroup':
      return { ...inputs, arn, arnSuffix: `targetgroup/${name}/0123456789abcdef` };
    case 'aws:ec2/launchTemplate:LaunchTemplate':
      return { ...inputs, arn, latestVersion: 1 };
    case 'aws:autoscaling/group:Group':
      return { ...inputs, arn, name: `${name}-asg` };
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { ...inputs, arn, name: `${name}-alarm` };
    case 'aws:cloudwatch/dashboard:Dashboard':
      return { ...inputs, dashboardName: inputs.dashboardName ?? name };
    default:
      return { ...inputs, arn, name: inputs.name ?? name };
  }
}

/** Plausible results of the provider functions the program calls (an account of its own, the aws partition). */
export function mockCall(token: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (token) {
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return { accountId: '123456789012', arn: 'arn:aws:iam::123456789012:user/mock', userId: 'AIDAMOCKUSER', id: '123456789012' };
    case 'aws:index/getPartition:getPartition':
      return { partition: 'aws', dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws', id: 'aws' };
    default:
      return inputs;
  }
}

/** How synth shows a value `pulumi preview` cannot know before deploy (an id, an ARN, anything built from one). */
export const UNKNOWN = '[unknown]';

/** `pulumi.unknown` anywhere in a value becomes UNKNOWN (a string built from one is unknown as a whole already). */
export function markUnknowns(value: unknown): unknown {
  if (pulumi.isUnknown(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(markUnknowns);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markUnknowns(v)]));
  return value;
}

/** Outputs a provider fills in at check time, so `pulumi preview` knows them: auto-names. */
const AUTONAMED = ['name', 'bucket', 'identifier', 'dashboardName'];

/**
 * What a create's outputs are under `pulumi preview`: its inputs, plus the names Pulumi's
 * auto-naming assigns during the provider's check (known at preview, with a random suffix in a
 * real run; the mock's plausible names here). Every other output (id, arn, dnsName, endpoint,
 * latestVersion…) is left out, so the SDK resolves it as unknown, as the engine does.
 */
export function previewState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const planned = mockState(type, name, inputs);
  return { ...Object.fromEntries(AUTONAMED.filter((k) => planned[k] !== undefined).map((k) => [k, planned[k]])), ...inputs };
}

export interface MockRunOptions {
  /**
   * Run as `pulumi preview` does for a stack that does not exist yet: every resource is a create,
   * so the provider knows only its inputs; ids, ARNs, DNS names and whatever is built from them
   * stay unknown (shown as UNKNOWN), and resources created inside an `apply` on an unknown value
   * are not declared yet. Without it, the mocks answer plausible outputs (mockState) so the
   * whole graph can be checked.
   */
  preview?: boolean;
}

/**
 * `config` maps `namespace:key` (and `aws:region`) to string values, objects as JSON.
 * Resolves once every resource is registered.
 */
export async function runProgramUnderMocks(config: Record<string, string>, stack: string, project = 'onnx-fleet', options: MockRunOptions = {}): Promise<ResourceRecord[]> {
  const preview = options.preview ?? false;
  // Validate first, so a bad config is reported as such (not as a failed mock run).
  const parsed = parseStackConfig(config);
  const records = new Map<string, ResourceRecord>();
  const parents = new Map<string, { name: string; type: string } | null>();
  const names = new WeakMap<object, { name: string; type: string }>();
  const ignored = new Map<string, string[]>();
  const protectedIds = new Set<string>();
  const dependencies = new Map<string, string[]>();
  const id = (type: string, name: string) => `${type}::${name}`;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = preview ? (markUnknowns(args.inputs) as Record<string, unknown>) : args.inputs;
        records.set(id(args.type, args.name), { type: args.type, name: args.name, parent: null, parentType: null, inputs });
        if (preview) return { id: undefined, state: previewState(args.type, args.name, args.inputs) };
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
      },
      call: (args) => mockCall(args.token, args.inputs),
    },
    project,
    stack,
    preview,
  );
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      names.set(args.resource, { name: args.name, type: args.type });
      if (args.opts.ignoreChanges) ignored.set(id(args.type, args.name), args.opts.ignoreChanges);
      if (args.opts.protect) protectedIds.add(id(args.type, args.name));
      const deps = args.opts.dependsOn;
      if (Array.isArray(deps) && deps.length > 0) dependencies.set(id(args.type, args.name), deps.map((d) => names.get(d as object)).filter((n) => n !== undefined).map((n) => id(n!.type, n!.name)));
      const parent = args.opts.parent;
      parents.set(id(args.type, args.name), parent ? names.get(parent) ?? null : null);
      return undefined;
    });
    definePlatform(parsed, stack);
    return {};
  });
  // Let every pending registration (and resource created inside an apply) settle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings: { waitForRPCs?: () => Promise<void> } = require('@pulumi/pulumi/runtime/settings');
  let count = -1;
  while (count !== records.size) {
    count = records.size;
    await settings.waitForRPCs?.();
    await new Promise((r) => setTimeout(r, 10));
  }
  return [...records.values()]
    .filter((r) => r.type !== 'pulumi:pulumi:Stack')
    .map((r) => {
      const p = parents.get(id(r.type, r.name)) ?? null;
      return { ...r, parent: p?.name ?? null, parentType: p?.type ?? null, ignoreChanges: ignored.get(id(r.type, r.name)), ...(protectedIds.has(id(r.type, r.name)) ? { protect: true } : {}), ...(dependencies.has(id(r.type, r.name)) ? { dependsOn: dependencies.get(id(r.type, r.name)) } : {}) };
    });
}
