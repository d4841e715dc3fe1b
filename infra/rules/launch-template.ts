/** EC2 launch templates: user data, instance metadata options, EBS volumes, names. */
import { autoName, eachResource, inRange, num } from './graph';
import type { AwsRule } from './types';

const LT = 'aws:ec2/launchTemplate:LaunchTemplate';
const EC2_API = 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference';

export const launchTemplateRules: AwsRule[] = [
  {
    id: 'lt-user-data-size',
    resourceTypes: [LT],
    resource: 'Launch template',
    setting: 'UserData',
    rule: 'User data is base64-encoded and at most 16 KB in raw form, before encoding.',
    sources: ['https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html', `${EC2_API}/API_RequestLaunchTemplateData.html`, 'https://github.com/kubicorn/kubicorn/issues/667'],
    keys: ['shards', 'database.readers'],
    checkGraph: eachResource([LT], (i) => {
      if (i.userData === undefined) return undefined;
      const text = String(i.userData);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return 'user data is not base64';
      const raw = Buffer.from(text, 'base64').length;
      return raw <= 16 * 1024 ? undefined : `user data is ${raw} bytes before base64, expected at most 16384`;
    }),
    violation: { base: 'dev', patch: [{ type: LT, set: { userData: Buffer.from(`#!/bin/bash\n${'#'.repeat(16 * 1024)}\n`).toString('base64') } }] },
  },
  {
    id: 'lt-metadata-options',
    resourceTypes: [LT],
    resource: 'Launch template',
    setting: 'MetadataOptions',
    rule: 'The metadata hop limit is 1 to 64; HttpTokens is optional or required, HttpEndpoint and InstanceMetadataTags enabled or disabled.',
    sources: [`${EC2_API}/API_LaunchTemplateInstanceMetadataOptionsRequest.html`, 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html'],
    keys: [],
    checkGraph: eachResource([LT], (i) => {
      const m = i.metadataOptions;
      if (!m) return undefined;
      const out: string[] = [];
      if (m.httpPutResponseHopLimit !== undefined && !inRange(num(m.httpPutResponseHopLimit), 1, 64)) out.push(`hop limit ${m.httpPutResponseHopLimit}, expected 1–64`);
      if (m.httpTokens !== undefined && !['optional', 'required'].includes(m.httpTokens)) out.push(`httpTokens ${m.httpTokens}`);
      for (const k of ['httpEndpoint', 'instanceMetadataTags']) if (m[k] !== undefined && !['enabled', 'disabled'].includes(m[k])) out.push(`${k} ${m[k]}`);
      return out;
    }),
    violation: { base: 'dev', patch: [{ type: LT, set: { 'metadataOptions.httpPutResponseHopLimit': 65 } }] },
  },
  {
    id: 'lt-ebs-gp3-volume',
    resourceTypes: [LT],
    resource: 'Launch template EBS volume',
    setting: 'BlockDeviceMappings[].Ebs (gp3)',
    rule: 'A gp3 volume is 1 to 16384 GiB, with 3000–16000 IOPS and 125–1000 MiB/s when set.',
    sources: ['https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html', `${EC2_API}/API_LaunchTemplateEbsBlockDeviceRequest.html`],
    keys: [],
    checkGraph: eachResource([LT], (i) =>
      (i.blockDeviceMappings ?? [])
        .filter((b: any) => b.ebs?.volumeType === 'gp3')
        .flatMap((b: any) => {
          const e = b.ebs;
          const bad = [
            !inRange(num(e.volumeSize), 1, 16384) && `size ${e.volumeSize} GiB`,
            e.iops !== undefined && !inRange(num(e.iops), 3000, 16000) && `iops ${e.iops}`,
            e.throughput !== undefined && !inRange(num(e.throughput), 125, 1000) && `throughput ${e.throughput}`,
          ].filter(Boolean);
          return bad.length ? [`${b.deviceName}: gp3 ${bad.join(', ')}`] : [];
        }),
    ),
    violation: { base: 'staging', patch: [{ type: LT, name: 'onnx-fleet-fleet', set: { 'blockDeviceMappings.0.ebs.volumeSize': 16385 } }] },
  },
  {
    id: 'lt-name',
    resourceTypes: [LT],
    resource: 'Launch template',
    setting: 'LaunchTemplateName',
    rule: 'A launch template name is 3 to 128 characters of letters, digits, ( ) . - / and _ (Pulumi adds 8 characters to a logical name).',
    sources: [`${EC2_API}/API_CreateLaunchTemplate.html`],
    keys: [],
    checkGraph: eachResource([LT], (_i, r) => {
      const { name } = autoName(r);
      return /^[A-Za-z0-9().\-/_]{3,128}$/.test(name) ? undefined : `name ${JSON.stringify(name)}`;
    }),
    violation: { base: 'dev', patch: [{ type: LT, set: { name: 'onnx fleet' } }] },
  },
];
