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

describe('Kubernetes', () => {
  const deployment = (graph: ResourceRecord[]) => graph.find((r) => r.type === 'kubernetes:apps/v1:Deployment' && r.name === 'onnx-fleet-runtime')!.inputs as Record<string, any>;

  test('a model-only change leaves the pod template alone (no rollout): the pods poll the store', async () => {
    const a = await synthIsolated(stackRawConfig('prod-k8s'), 'prod-k8s');
    const b = await synthIsolated({ ...stackRawConfig('prod-k8s'), 'onnx-fleet:modelRepository': changedModels() }, 'prod-k8s');
    expect(deployment(b)).toEqual(deployment(a));
    expect(inputsOf(b, 'kubernetes:apps/v1:Deployment')).toEqual(inputsOf(a, 'kubernetes:apps/v1:Deployment'));
    const env = deployment(a).spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'ONNX_FLEET_MODEL_REPOSITORY', value: 's3://acme-ml-models-eu-west-1/onnx-fleet/prod-k8s?region=eu-west-1' });
  }, 60_000);

  test('kubernetes.modelClaim is still offered: the claim is mounted read-only and polled, no cache', async () => {
    const raw = stackRawConfig('dev-k8s');
    delete raw['onnx-fleet:modelStore'];
    raw['onnx-fleet:kubernetes'] = JSON.stringify({ ...JSON.parse(raw['onnx-fleet:kubernetes']), modelClaim: 'onnx-fleet-models' });
    const spec = deployment(await synthIsolated(raw, 'dev-k8s')).spec.template.spec;
    expect(spec.volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'onnx-fleet-models', readOnly: true } });
    expect(spec.volumes.map((v: any) => v.name)).not.toContain('model-cache');
    expect(spec.containers[0].env).toEqual(expect.arrayContaining([{ name: 'ONNX_FLEET_MODEL_REPOSITORY', value: '/models' }, { name: 'ONNX_FLEET_MODEL_CONTROL_MODE', value: 'poll' }]));
  }, 60_000);

  test('a claim and a store at once is a config error naming both keys', async () => {
    const { parseStackConfig } = await import('../../infra/config');
    const raw = stackRawConfig('dev-k8s');
    raw['onnx-fleet:kubernetes'] = JSON.stringify({ ...JSON.parse(raw['onnx-fleet:kubernetes']), modelClaim: 'onnx-fleet-models' });
    expect(() => parseStackConfig(raw)).toThrow('onnx-fleet:kubernetes.modelClaim: got "onnx-fleet-models", but onnx-fleet:modelStore.location is set too; expected one model repository: the S3 store (preferred) or a claim');
    expect(() => parseStackConfig({ ...stackRawConfig('dev'), 'onnx-fleet:modelStore': JSON.stringify({ location: 's3://models?endpoint=http://minio:9000' }) })).toThrow(
      'onnx-fleet:modelStore.location: got "s3://models?endpoint=http://minio:9000", expected an AWS S3 bucket without ?endpoint= on the AWS target',
    );
    expect(() => parseStackConfig({ ...stackRawConfig('dev'), 'onnx-fleet:modelStore': JSON.stringify({ kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc' }) })).toThrow('onnx-fleet:modelStore.kmsKeyArn: got "arn:aws:kms:us-east-1:123456789012:key/abc", but onnx-fleet:modelStore.location is not set');
  });
});
