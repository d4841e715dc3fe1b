/**
 * The onnx-fleet CrossGuard policy pack (policy-pack/, entry infra/policies/pack.ts): every stack's
 * graph passes every policy of the pack, run in-process with the arguments CrossGuard passes
 * (crossguard-harness.ts); each AWS hardening check catches what it is written for, in the
 * environments it applies to; and the pack as users run it (`pulumi preview --policy-pack
 * policy-pack`) starts, serves its policies over the analyzer protocol and judges a resource.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import YAML from 'yaml';
import { ENVIRONMENT_TAG } from '../../infra/policies/aws-hardening';
import { POLICY_PACK_NAME, POLICY_PACK_POLICIES } from '../../infra/policies/pack-policies';
import type { ResourceRecord } from '../../infra/testing/mock-run';
import { runPolicies } from './crossguard-harness';
import { stackNames } from './graph';
import { stackRawConfig, synthIsolated } from './isolated-synth';

const ROOT = path.resolve(__dirname, '..', '..');
const PACK_DIR = path.join(ROOT, 'policy-pack');
const graphs = new Map<string, ResourceRecord[]>();

beforeAll(async () => {
  for (const stack of stackNames()) graphs.set(stack, await synthIsolated(stackRawConfig(stack), stack));
}, 180_000);

const copy = (rs: ResourceRecord[]): ResourceRecord[] => JSON.parse(JSON.stringify(rs));
const find = (rs: ResourceRecord[], type: string, pick: (r: ResourceRecord) => boolean = () => true) => {
  const r = rs.find((x) => x.type === type && pick(x));
  if (!r) throw new Error(`no ${type}`);
  return r.inputs as Record<string, any>;
};
const policiesOf = (vs: { policy: string }[]) => [...new Set(vs.map((v) => v.policy))].sort();

test.each(stackNames())('stack %s passes every policy of the pack', async (stack) => {
  expect(await runPolicies(POLICY_PACK_POLICIES, graphs.get(stack)!, stack)).toEqual([]);
});

test('staging and prod resources carry the environment tag the hardening checks read', () => {
  for (const stack of ['staging', 'prod-us-east-1', 'prod-eu-west-1']) {
    const env = stack === 'staging' ? 'staging' : 'prod';
    for (const type of ['aws:s3/bucket:Bucket', 'aws:lb/loadBalancer:LoadBalancer', 'aws:lb/listener:Listener']) {
      for (const r of graphs.get(stack)!.filter((x) => x.type === type)) expect([r.name, (r.inputs as any).tags?.[ENVIRONMENT_TAG]]).toEqual([r.name, env]);
    }
  }
});

describe('the AWS hardening checks catch what they are written for', () => {
  test('s3-bucket-logging-enabled: a staging bucket without server access logging (the log sink excepted)', async () => {
    const g = copy(graphs.get('staging')!);
    const logging = g.filter((r) => r.type === 'aws:s3/bucketLogging:BucketLogging');
    expect(logging.length).toBeGreaterThan(0);
    const dropped = logging[0];
    const vs = await runPolicies(POLICY_PACK_POLICIES, g.filter((r) => r !== dropped), 'staging');
    expect(vs).toEqual([{ policy: 's3-bucket-logging-enabled', urn: expect.stringMatching(new RegExp(`aws:s3/bucket:Bucket::${dropped.name}$`)), message: expect.stringContaining('no server access logging') }]);
    // dev keeps no access logs and is not checked.
    expect((graphs.get('dev') ?? []).some((r) => r.type === 'aws:s3/bucketLogging:BucketLogging')).toBe(false);
  });

  test('rds-multi-az: a staging database primary in one zone', async () => {
    const g = copy(graphs.get('staging')!);
    const instance = g.find((r) => r.type === 'aws:rds/instance:Instance' && !(r.inputs as any).replicateSourceDb);
    if (instance) (instance.inputs as any).multiAz = false;
    else for (const r of g.filter((x) => x.type === 'aws:rds/clusterInstance:ClusterInstance')) (r.inputs as any).availabilityZone = 'us-east-2a';
    expect(policiesOf(await runPolicies(POLICY_PACK_POLICIES, g, 'staging'))).toEqual(['rds-multi-az']);
  });

  test('rds-backups: prod backups below the configured minimum (policy config via getConfig)', async () => {
    const g = copy(graphs.get('prod-us-east-1')!);
    const db = g.find((r) => (r.type === 'aws:rds/instance:Instance' && !(r.inputs as any).replicateSourceDb) || r.type === 'aws:rds/cluster:Cluster')!;
    (db.inputs as any).backupRetentionPeriod = 3;
    expect(policiesOf(await runPolicies(POLICY_PACK_POLICIES, g, 'prod-us-east-1'))).toEqual(['rds-backups']);
    expect(await runPolicies(POLICY_PACK_POLICIES, g, 'prod-us-east-1', { 'rds-backups': { minimumRetentionDays: 3 } })).toEqual([]);
  });

  test('deletion-protection: a prod load balancer without it, not checked in staging', async () => {
    for (const [stack, expected] of [['prod-eu-west-1', ['deletion-protection']], ['staging', []]] as const) {
      const g = copy(graphs.get(stack)!);
      find(g, 'aws:lb/loadBalancer:LoadBalancer').enableDeletionProtection = false;
      expect(policiesOf(await runPolicies(POLICY_PACK_POLICIES, g, stack))).toEqual(expected);
    }
  });

  test('alb-http-to-https-redirection: a prod HTTP listener that forwards', async () => {
    const g = copy(graphs.get('prod-us-east-1')!);
    const http = find(g, 'aws:lb/listener:Listener', (r) => (r.inputs as any).protocol === 'HTTP');
    http.defaultActions = [{ type: 'forward', targetGroupArn: 'arn:aws:mock:onnx-fleet-alb-runtime' }];
    expect(policiesOf(await runPolicies(POLICY_PACK_POLICIES, g, 'prod-us-east-1'))).toEqual(['alb-http-to-https-redirection']);
  });

  test('the in-repo policies report through CrossGuard: per resource, and per stack on the URN of the resource at fault', async () => {
    const g = copy(graphs.get('dev')!);
    find(g, 'aws:ec2/subnet:Subnet').mapPublicIpOnLaunch = true;
    const sg = find(g, 'aws:ec2/launchTemplate:LaunchTemplate').networkInterfaces[0].securityGroups[0];
    g.push({ type: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', name: 'onnx-fleet-net-https-direct', parent: 'onnx-fleet-net', parentType: 'onnx-fleet:aws:Network', inputs: { securityGroupId: sg, cidrIpv4: '0.0.0.0/0', fromPort: 443, toPort: 443, ipProtocol: 'tcp' } });
    const vs = await runPolicies(POLICY_PACK_POLICIES, g, 'dev');
    expect(vs).toEqual(
      expect.arrayContaining([
        { policy: 'no-public-exposure', urn: expect.stringMatching(/::pulumi:pulumi:Stack\$onnx-fleet:aws:Platform\$onnx-fleet:aws:Network\$aws:ec2\/subnet:Subnet::onnx-fleet-net-/), message: 'subnet assigns public IPs on launch' },
        { policy: 'internet-only-to-load-balancers', urn: expect.stringMatching(/SecurityGroupIngressRule::onnx-fleet-net-https-direct$/), message: expect.stringContaining('attached to instances') },
      ]),
    );
  });
});

describe('the pack as `pulumi preview --policy-pack policy-pack` runs it', () => {
  test('PulumiPolicy.yaml and package.json point at the built entry point', () => {
    expect(YAML.parse(fs.readFileSync(path.join(PACK_DIR, 'PulumiPolicy.yaml'), 'utf8'))).toMatchObject({ runtime: 'nodejs' });
    const pkg = JSON.parse(fs.readFileSync(path.join(PACK_DIR, 'package.json'), 'utf8'));
    expect(pkg.version).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    expect(require.resolve(PACK_DIR)).toBe(path.join(ROOT, 'dist', 'infra', 'policies', 'pack.js'));
  });

  let pack: ChildProcess | undefined;
  afterAll(() => pack?.kill());

  test('it serves its policies over the analyzer protocol and reports a violation for a resource', async () => {
    // As the CLI does: run the pack in its directory; it prints the port of its gRPC server.
    pack = spawn(process.execPath, [PACK_DIR], { cwd: PACK_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      pack!.stdout!.on('data', (d) => {
        out += d;
        const m = /^(\d+)\s*$/m.exec(out);
        if (m) resolve(Number(m[1]));
      });
      pack!.stderr!.on('data', (d) => (err += d));
      pack!.on('exit', (code) => reject(new Error(`policy pack exited ${code}: ${err}`)));
    });
    /* eslint-disable @typescript-eslint/no-require-imports */
    const rpc = require('@pulumi/pulumi/proto/analyzer_grpc_pb');
    const pb = require('@pulumi/pulumi/proto/analyzer_pb');
    const { Empty } = require('google-protobuf/google/protobuf/empty_pb');
    const { Struct } = require('google-protobuf/google/protobuf/struct_pb');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = <T>(method: string, req: unknown) => new Promise<T>((resolve, reject) => client[method](req, (e: Error | null, res: T) => (e ? reject(e) : resolve(res))));
    try {
      const info: any = await call('getAnalyzerInfo', new Empty());
      expect(info.getName()).toBe(POLICY_PACK_NAME);
      expect(info.getPoliciesList().map((p: any) => p.getName()).sort()).toEqual(POLICY_PACK_POLICIES.map((p) => p.name).sort());
      const req = new pb.AnalyzeRequest();
      req.setType('aws:lb/loadBalancer:LoadBalancer');
      req.setName('public-alb');
      req.setUrn('urn:pulumi:prod::onnx-fleet::aws:lb/loadBalancer:LoadBalancer::public-alb');
      req.setOptions(new pb.AnalyzerResourceOptions());
      req.setProperties(Struct.fromJavaScript({ enableDeletionProtection: false, dropInvalidHeaderFields: true, tags: { [ENVIRONMENT_TAG]: 'prod' } }));
      const res: any = await call('analyze', req);
      // CrossGuard puts the policy's description before the message (the engine adds the URN).
      expect(res.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getMessage()])).toEqual([['deletion-protection', expect.stringContaining('load balancer without deletion protection')]]);
    } finally {
      client.close();
    }
  });
});
