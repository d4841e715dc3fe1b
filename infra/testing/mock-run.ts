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
}

/** Plausible provider outputs for the few resources whose outputs other resources read. */
export function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const arn = `arn:aws:mock:${name}`;
  switch (type) {
    case 'aws:rds/instance:Instance':
      return { ...inputs, identifier: name, address: `${name}.mock.rds.amazonaws.com`, arn, masterUserSecrets: inputs.manageMasterUserPassword ? [{ secretArn: `arn:aws:secretsmanager:mock:000000000000:secret:rds!${name}`, secretStatus: 'active' }] : [] };
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

/**
 * `config` maps `namespace:key` (and `aws:region`) to string values, objects as JSON.
 * Resolves once every resource is registered.
 */
export async function runProgramUnderMocks(config: Record<string, string>, stack: string, project = 'onnx-fleet'): Promise<ResourceRecord[]> {
  // Validate first, so a bad config is reported as such (not as a failed mock run).
  const parsed = parseStackConfig(config);
  const records = new Map<string, ResourceRecord>();
  const parents = new Map<string, { name: string; type: string } | null>();
  const names = new WeakMap<object, { name: string; type: string }>();
  const ignored = new Map<string, string[]>();
  const id = (type: string, name: string) => `${type}::${name}`;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        records.set(id(args.type, args.name), { type: args.type, name: args.name, parent: null, parentType: null, inputs: args.inputs });
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
      },
      call: (args) => mockCall(args.token, args.inputs),
    },
    project,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      names.set(args.resource, { name: args.name, type: args.type });
      if (args.opts.ignoreChanges) ignored.set(id(args.type, args.name), args.opts.ignoreChanges);
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
      return { ...r, parent: p?.name ?? null, parentType: p?.type ?? null, ignoreChanges: ignored.get(id(r.type, r.name)) };
    });
}
