/** `onnx-fleet synth` in-process: the JSON graph, the tree, and invalid config as exit 2 with the message. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthCommand } from '../../infra/synth';
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
  expect(count(dev, 'aws:rds/instance:Instance')).toBe(1);
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
  expect(out).toMatch(/\n {3}│ {2}├─ onnx-fleet:aws:FleetRelease  onnx-fleet-fleet-release\n {3}│ {2}│ {2}└─ pulumi-nodejs:dynamic\/fleet:Release  onnx-fleet-fleet-release  version=1 autoRollback=true checkpoints=25\/50\/100 bake=600s alarms=2\n/);
  expect(out).toContain('aws:lb/targetGroup:TargetGroup  onnx-fleet-alb-runtime  port=8080 deregistrationDelay=45 loadBalancingAlgorithmType=weighted_random healthCheck=/v2/health/ready every 5s (2/2)');
  expect(out).toContain('aws:rds/instance:Instance  onnx-fleet-db-replica-1  instanceClass=db.r6g.large availabilityZone=eu-west-1b');
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
