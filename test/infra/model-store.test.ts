/**
 * A model release is data, not infrastructure: two synths of the same stack that differ only in
 * the local model repository (a new version, a changed config.json) declare the same launch
 * template, the same user data and the same release step, so nothing starts an instance refresh;
 * only the model store's initial-release step sees the change. And the store is read through the
 * instance role for exactly its prefix.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResourceRecord } from '../../infra/testing/mock-run';
import { EXAMPLES } from '../helpers/runtime';
import { stackRawConfig, synthIsolated } from './isolated-synth';

const inputsOf = (rs: ResourceRecord[], type: string) => rs.filter((r) => r.type === type).map((r) => ({ name: r.name, inputs: r.inputs }));

/** A copy of the example repository with a second iris version and a changed config.json. */
function changedModels(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-models-changed-')), 'models');
  fs.cpSync(EXAMPLES, dir, { recursive: true });
  fs.cpSync(path.join(dir, 'iris', '1'), path.join(dir, 'iris', '2'), { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'iris', 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'iris', 'config.json'), JSON.stringify({ ...config, max_batch_size: 7 }));
  return dir;
}

let before: ResourceRecord[];
let after: ResourceRecord[];

beforeAll(async () => {
  before = await synthIsolated(stackRawConfig('staging'), 'staging');
  after = await synthIsolated({ ...stackRawConfig('staging'), 'onnx-fleet:modelRepository': changedModels() }, 'staging');
}, 120_000);

test('a model-only change leaves every launch template, its user data and every release step as they were (no instance refresh)', () => {
  for (const type of ['aws:ec2/launchTemplate:LaunchTemplate', 'pulumi-nodejs:dynamic/fleet:Release', 'aws:autoscaling/group:Group', 'aws:iam/rolePolicy:RolePolicy']) {
    const b = inputsOf(before, type);
    expect(b.length).toBeGreaterThan(0);
    expect(inputsOf(after, type)).toEqual(b);
  }
  const userData = Buffer.from(String(before.find((r) => r.type === 'aws:ec2/launchTemplate:LaunchTemplate')!.inputs.userData), 'base64').toString();
  expect(userData).toContain("MODEL_STORE='s3://onnx-fleet-models-bucket/models/?region=us-east-2'");
});

test('no artifact carries models: the bundle is the only object the stack uploads', () => {
  for (const graph of [before, after]) expect(graph.filter((r) => r.type === 'aws:s3/bucketObjectv2:BucketObjectv2').map((r) => r.name)).toEqual(['onnx-fleet-artifacts-bundle']);
});

test("only the store's initial-release step sees the change: same store, a new digest of the local repository", () => {
  const seed = (graph: ResourceRecord[]) => graph.filter((r) => r.type === 'pulumi-nodejs:dynamic/models:InitialRelease').map((r) => r.inputs as Record<string, any>);
  const [b, a] = [seed(before), seed(after)];
  expect(b).toHaveLength(1);
  expect(a[0].location).toBe(b[0].location);
  expect(b[0].location).toBe('s3://onnx-fleet-models-bucket/models/?region=us-east-2');
  expect(a[0].digest).not.toBe(b[0].digest);
  // The publishing code of `onnx-fleet models` is what the provider runs.
  expect(String(b[0].__provider)).toContain('publishInitialRelease');
  // Instances launch once it is there (their first boot reads the store), and it writes only once the bucket is hardened.
  const group = before.find((r) => r.type === 'aws:autoscaling/group:Group' && r.name === 'onnx-fleet-fleet')!;
  expect(group.dependsOn).toEqual(['onnx-fleet:aws:ModelStoreSeed::onnx-fleet-models-initial-release']);
  const release = before.find((r) => r.type === 'pulumi-nodejs:dynamic/models:InitialRelease')!;
  expect(release.dependsOn).toEqual(['onnx-fleet:aws:SecureBucket::onnx-fleet-models']);
});
