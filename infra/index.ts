/**
 * Entry point of the Pulumi program (Pulumi.yaml `main`): `pulumi up --stack <name>` with the
 * stack's file in stacks/. Everything is in program.ts; this file only exports its outputs.
 */
import * as pulumi from '@pulumi/pulumi';
import { definePlatform, stackConfigFromPulumi } from './program';

const outputs = definePlatform(stackConfigFromPulumi(), pulumi.getStack());

export const platform = outputs.platform;
export const url = outputs.url;
export const albDnsName = outputs.albDnsName;
export const databaseWriter = outputs.databaseWriter;
export const databaseReader = outputs.databaseReader;
export const shardBuckets = outputs.shardBuckets;
export const artifactBucket = outputs.artifactBucket;
export const modelStore = outputs.modelStore;
export const dashboard = outputs.dashboard;
export const namespace = outputs.namespace;
export const service = outputs.service;
