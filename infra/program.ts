/**
 * The Pulumi program, as a function of the stack's configuration: validates it (errors name the
 * key, the value and what is allowed) and builds the platform for the configured target.
 * infra/index.ts runs it under the Pulumi CLI; synth and the tests run it under mocks.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { AwsPlatform } from './aws/platform';
import { parseStackConfig, StackConfig } from './config';
import { KubernetesPlatform } from './kubernetes/platform';

export interface ProgramOutputs {
  platform: string;
  [name: string]: unknown;
}

/** The directory holding Pulumi.yaml: relative paths in stack configs are relative to it. */
export function projectRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'Pulumi.yaml'))) return dir;
  }
  return process.cwd();
}

export function definePlatform(input: StackConfig, stack: string): ProgramOutputs {
  const root = projectRoot();
  const config = { ...input, runtimeBundle: path.resolve(root, input.runtimeBundle), modelRepository: path.resolve(root, input.modelRepository) };
  if (config.platform === 'kubernetes') {
    const k = new KubernetesPlatform('onnx-fleet', { config, stack });
    return { platform: 'kubernetes', namespace: k.namespace, service: k.serviceName, databaseWriter: k.writerHost, databaseReader: k.readerHost, shardBuckets: k.shardBuckets, modelStore: k.modelStore };
  }
  const p = new AwsPlatform('onnx-fleet', { config, stack });
  return {
    platform: 'aws',
    url: pulumi.interpolate`${config.certificateArn ? 'https' : 'http'}://${p.albDnsName}`,
    albDnsName: p.albDnsName,
    databaseWriter: p.writerEndpoint,
    databaseReader: p.readerEndpoint,
    shardBuckets: p.shardBuckets,
    artifactBucket: p.artifactBucket,
    modelStore: p.modelStore,
    dashboard: p.dashboardName,
  };
}

/** Reads every `namespace:key` the stack holds (objects arrive as JSON strings). */
export function stackConfigFromPulumi(): StackConfig {
  return parseStackConfig(pulumi.runtime.allConfig());
}
