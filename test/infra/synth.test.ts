/** `onnx-fleet synth` in-process: the JSON graph, the tree, and invalid config as exit 2 with the message. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readStackFile, renderTree, synthCommand } from '../../infra/synth';
import { STACKS_DIR } from './graph';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: any) => ((out += String(c)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: any) => ((err += String(c)), true));
  try {
    return { code: await synthCommand(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** A copy of a stack file that uploads a stand-in bundle (the graph does not need a built one). */
function stackCopy(stack: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-synth-'));
  const bundle = path.join(dir, 'bundle.tar.gz');
  fs.writeFileSync(bundle, 'bundle stand-in for the graph\n');
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, fs.readFileSync(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`), 'utf8') + `  onnx-fleet:runtimeBundle: ${bundle}\n`);
  return file;
}

test('--config-file with --json prints {type, name, parent, inputs} for every resource', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-synth-'));
  const bundle = path.join(dir, 'bundle.tar.gz');
  fs.writeFileSync(bundle, 'bundle stand-in for the graph\n');
  const file = path.join(dir, 'Pulumi.mine.yaml');
  fs.writeFileSync(file, fs.readFileSync(path.join(STACKS_DIR, 'Pulumi.dev.yaml'), 'utf8') + `  onnx-fleet:runtimeBundle: ${bundle}\n`);
  const { code, out } = await capture(['--config-file', file, '--json']);
  expect(code).toBe(0);
  const graph = JSON.parse(out);
  expect(graph.length).toBeGreaterThan(50);
  for (const r of graph) expect(Object.keys(r)).toEqual(['type', 'name', 'parent', 'inputs']);
  expect(graph.find((r: any) => r.type === 'aws:autoscaling/group:Group')).toMatchObject({ name: 'onnx-fleet-fleet', parent: 'onnx-fleet-fleet', inputs: { healthCheckType: 'ELB' } });
  expect(graph.find((r: any) => r.type === 'onnx-fleet:aws:Platform')).toMatchObject({ name: 'onnx-fleet', parent: null });
}, 60_000);

test('several stacks in one process: each run is its own graph (nothing left over from the last)', async () => {
  const prod = JSON.parse((await capture(['--config-file', stackCopy('prod-us-east-1'), '--json'])).out);
  const dev = JSON.parse((await capture(['--config-file', stackCopy('dev'), '--json'])).out);
  const again = JSON.parse((await capture(['--config-file', stackCopy('prod-us-east-1'), '--json'])).out);
  const count = (graph: any[], type: string) => graph.filter((r) => r.type === type).length;
  expect(count(prod, 'aws:ec2/natGateway:NatGateway')).toBe(3);
  expect(count(dev, 'aws:ec2/natGateway:NatGateway')).toBe(1);
  expect(count(dev, 'aws:rds/clusterInstance:ClusterInstance')).toBe(1);
  expect(count(prod, 'aws:rds/clusterInstance:ClusterInstance')).toBe(3);
  for (const graph of [prod, dev, again]) expect(graph.filter((r: any) => r.parent === null)).toHaveLength(1);
  const shape = (graph: any[]) => graph.map((r) => `${r.type} ${r.name} ${r.parent}`).sort();
  expect(shape(again)).toEqual(shape(prod));
}, 120_000);

test('the tree shows types, names and key settings, children under their component', async () => {
  const { code, out } = await capture(['--config-file', stackCopy('prod-eu-west-1')]);
  expect(code).toBe(0);
  const lines = out.split('\n');
  expect(lines[0]).toMatch(/^prod-eu-west-1: \d+ resources$/);
  expect(lines[1]).toBe('└─ onnx-fleet:aws:Platform  onnx-fleet');
  expect(out).toMatch(/\n {3}├─ onnx-fleet:aws:Fleet  onnx-fleet-fleet\n( {3}│ .*\n)*? {3}│ {2}[├└]─ aws:autoscaling\/group:Group  onnx-fleet-fleet  minSize=3 maxSize=18 healthCheckType=ELB healthCheckGracePeriod=300\n/);
  // A preview of a new stack: the release's desired configuration names the launch template's id
  // and version, which only exist after deploy, so both show as unknown (as pulumi preview shows them).
  expect(out).toMatch(/\n {3}│ {2}├─ onnx-fleet:aws:FleetRelease  onnx-fleet-fleet-release\n {3}│ {2}│ {2}└─ pulumi-nodejs:dynamic\/fleet:Release  onnx-fleet-fleet-release  desiredConfiguration=\[unknown\] preferences=\[unknown\]\n/);
  expect(out).toContain('aws:lb/targetGroup:TargetGroup  onnx-fleet-alb-runtime  port=8080 deregistrationDelay=45 loadBalancingAlgorithmType=weighted_random healthCheck=/v2/health/ready every 5s (2/2)');
  expect(out).toContain('aws:rds/clusterInstance:ClusterInstance  onnx-fleet-db-reader-1  instanceClass=db.r6g.large availabilityZone=eu-west-1c promotionTier=2');
}, 60_000);

test('invalid config exits 2 with the validation message', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-synth-'));
  const file = path.join(dir, 'Pulumi.bad.yaml');
  fs.writeFileSync(file, 'config:\n  aws:region: us-east-1\n  onnx-fleet:loadBalancingAlgorithm: fastest\n');
  const { code, err } = await capture(['--config-file', file]);
  expect(code).toBe(2);
  expect(err).toContain('onnx-fleet:loadBalancingAlgorithm: got "fastest", expected one of round_robin, least_outstanding_requests, weighted_random');
});

test('an unknown stack lists the known ones', async () => {
  const { code, err } = await capture(['--stack', 'nope']);
  expect(code).toBe(2);
  expect(err).toMatch(/stacks: .*dev.*prod-us-east-1/);
});

/** Every string value in a graph's inputs, depth first. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v !== null && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

test('values unknown until deploy are shown as [unknown], as pulumi preview shows them: never invented, never dropped', async () => {
  const { code, out } = await capture(['--config-file', stackCopy('dev'), '--json']);
  expect(code).toBe(0);
  const graph = JSON.parse(out);
  const find = (type: string, name?: string) => graph.find((r: any) => r.type === type && (name === undefined || r.name === name));
  // Ids and ARNs only AWS assigns: the subnet's VPC, the group's launch template version and target groups.
  expect(find('aws:ec2/subnet:Subnet').inputs.vpcId).toBe('[unknown]');
  const group = find('aws:autoscaling/group:Group').inputs;
  expect(group.targetGroupArns).toEqual(['[unknown]']);
  // Built from unknowns, so unknown as a whole (as interpolate/apply make it): the instances' user data.
  expect(find('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData).toBe('[unknown]');
  // What the config decides stays known: the pinned AMI, the subnet's zone and CIDR.
  expect(find('aws:ec2/launchTemplate:LaunchTemplate').inputs.imageId).toBe(readStackFile(path.join(STACKS_DIR, 'Pulumi.dev.yaml'))['onnx-fleet:amiId']);
  expect(find('aws:ec2/subnet:Subnet', 'onnx-fleet-net-public-0').inputs).toMatchObject({ availabilityZone: 'us-east-1a', cidrBlock: '10.40.0.0/20' });
  // No value the mocks make up for a real run (mock ARNs, "<name>-id" ids, mock endpoints) leaks into what synth shows.
  const all = graph.flatMap((r: any) => strings(r.inputs));
  expect(all.filter((s: string) => /arn:aws:mock|mock\.rds\.amazonaws\.com|\.elb\.amazonaws\.com|^[\w-]+-id$/.test(s))).toEqual([]);
}, 60_000);

test('the tree marks unknown settings and counts the unknown inputs', async () => {
  const { code, out } = await capture(['--config-file', stackCopy('prod-us-east-1')]);
  expect(code).toBe(0);
  expect(out).toMatch(/aws:ec2\/launchTemplate:LaunchTemplate {2}onnx-fleet-fleet {2}instanceType=c7i\.xlarge imageId=ami-[0-9a-f]+ userData=\[unknown\]\n/);
  const count = Number(/\n(\d+) input values are unknown until deploy \(shown as \[unknown\], as pulumi preview shows them\)\n$/.exec(out)?.[1]);
  expect(count).toBeGreaterThan(50);
}, 60_000);

test('a secret in the stack file is named, not validated as ciphertext: synth cannot decrypt it offline', async () => {
  const file = stackCopy('prod-us-east-1');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/onnx-fleet:alarmEmail: .*/, 'onnx-fleet:alarmEmail:\n    secure: v1:mFaR7qbyN0QhBm9L:GcwC1kGRD7HGUvnsb7sVqaIoGRCTbGM='));
  const { code, err } = await capture(['--config-file', file]);
  expect(code).toBe(2);
  expect(err).toContain("onnx-fleet:alarmEmail: a secret (secure: ciphertext), which only the stack's secrets provider can decrypt; expected a plain value for offline synth");
});

test("with every output known (the graph tests' full mocks), the release line shows the refresh it will start", async () => {
  const { runProgramUnderMocks } = await import('../../infra/testing/mock-run');
  const records = await runProgramUnderMocks(readStackFile(stackCopy('prod-eu-west-1')), 'prod-eu-west-1');
  expect(renderTree(records)).toMatch(/pulumi-nodejs:dynamic\/fleet:Release {2}onnx-fleet-fleet-release {2}version=1 autoRollback=true checkpoints=25\/50\/100 bake=600s alarms=2\n/);
}, 60_000);
