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
