/**
 * The Pulumi program itself (infra/index.ts, what `pulumi up` runs): under mocks, with a stack's
 * config set the way the CLI sets it, it validates the config and exports the platform's outputs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { readStackFile } from '../../infra/synth';
import { mockState } from '../../infra/testing/mock-run';
import { STACKS_DIR } from './graph';

const value = <T>(o: unknown) => new Promise<T>((resolve) => pulumi.output(o as pulumi.Input<T>).apply((v) => resolve(v as T)));

test('infra/index.ts exports the ALB DNS name, database endpoints, shard list, artifact bucket and dashboard', async () => {
  const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-program-')), 'bundle.tar.gz');
  fs.writeFileSync(bundle, 'bundle stand-in\n');
  await pulumi.runtime.setMocks(
    { newResource: (a) => ({ id: `${a.name}-id`, state: mockState(a.type, a.name, a.inputs) }), call: (a) => a.inputs },
    'onnx-fleet',
    'prod-eu-west-1',
    false,
  );
  pulumi.runtime.setAllConfig({ ...readStackFile(path.join(STACKS_DIR, 'Pulumi.prod-eu-west-1.yaml')), 'onnx-fleet:runtimeBundle': bundle });
  const program = await import('../../infra/index');

  expect(program.platform).toBe('aws');
  expect(await value(program.albDnsName)).toBe('onnx-fleet-alb.elb.amazonaws.com');
  expect(await value(program.url)).toBe('https://onnx-fleet-alb.elb.amazonaws.com');
  expect(await value(program.databaseWriter)).toBe('onnx-fleet-db.cluster-mock.rds.amazonaws.com');
  expect(await value(program.databaseReader)).toBe('onnx-fleet-db.cluster-ro-mock.rds.amazonaws.com');
  expect(await value(program.shardBuckets)).toEqual([0, 1, 2, 3].map((i) => `onnx-fleet-shard-${i}-bucket`));
  expect(await value(program.artifactBucket)).toBe('onnx-fleet-artifacts-bucket');
  expect(await value(program.dashboard)).toBe('onnx-fleet-dashboard');
  // Let every registration finish (the release step's provider is serialized asynchronously)
  // before Jest tears the module registry down.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require('@pulumi/pulumi/runtime/settings') as { waitForRPCs?: () => Promise<void> }).waitForRPCs?.();
}, 60_000);
