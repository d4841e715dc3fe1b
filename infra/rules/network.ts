/** VPC, subnets, security groups and endpoints. */
import type { StackConfig } from '../config';
import { eachResource, inputsOf, regionOf } from './graph';
import type { AwsRule } from './types';

const VPC = 'aws:ec2/vpc:Vpc';
const SUBNET = 'aws:ec2/subnet:Subnet';
const SG = 'aws:ec2/securityGroup:SecurityGroup';
const SG_RULES = ['aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule'];
const ENDPOINT = 'aws:ec2/vpcEndpoint:VpcEndpoint';
const CIDR_DOC = 'https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html';

/** `10.40.0.0/16` → [first address, prefix length], or undefined when it is not an IPv4 CIDR block. */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((a, o) => a * 256 + o, 0);
  return base % 2 ** (32 - prefix) === 0 ? { base, prefix } : undefined;
}
const size = (c: { prefix: number }) => 2 ** (32 - c.prefix);
const cidrProblem = (cidr: string) => {
  const c = parseCidr(cidr);
  if (!c) return `${cidr} is not an IPv4 CIDR block (four octets 0–255 on a network boundary)`;
  return c.prefix < 16 || c.prefix > 28 ? `${cidr} is a /${c.prefix}, expected /16 to /28` : undefined;
};
const SG_TEXT = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;

export const networkRules: AwsRule[] = [
  {
    id: 'vpc-cidr-block',
    resourceTypes: [VPC],
    resource: 'VPC',
    setting: 'CidrBlock',
    rule: 'A VPC IPv4 CIDR block is a valid block from /16 to /28.',
    sources: [CIDR_DOC, 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html'],
    keys: ['vpcCidr'],
    checkConfig: (c: StackConfig) => {
      const problem = c.platform === 'aws' ? cidrProblem(c.vpcCidr) : undefined;
      return problem ? { key: 'vpcCidr', message: `got ${JSON.stringify(c.vpcCidr)}: ${problem}` } : undefined;
    },
    checkGraph: eachResource([VPC], (i) => cidrProblem(String(i.cidrBlock))),
    violation: { base: 'staging', config: { vpcCidr: '10.300.0.0/16' } },
  },
  {
    id: 'vpc-subnet-cidrs',
    resourceTypes: [SUBNET],
    resource: 'Subnet',
    setting: 'CidrBlock',
    rule: "A subnet's CIDR block (/16 to /28) lies inside its VPC's and overlaps no other subnet of the VPC.",
    sources: ['https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html', CIDR_DOC],
    keys: ['vpcCidr', 'availabilityZones'],
    checkGraph: (all) => {
      const subnets = all.filter((r) => r.type === SUBNET);
      return subnets.flatMap((s) => {
        const i = inputsOf(s);
        const where = `${s.type} ${s.name}`;
        const problem = cidrProblem(String(i.cidrBlock));
        if (problem) return [{ resource: where, message: problem }];
        const c = parseCidr(i.cidrBlock)!;
        const vpc = all.find((v) => v.type === VPC && `${v.name}-id` === i.vpcId);
        const v = vpc ? parseCidr(String(inputsOf(vpc).cidrBlock)) : undefined;
        const out: { resource: string; message: string }[] = [];
        if (!v || c.base < v.base || c.base + size(c) > v.base + size(v)) out.push({ resource: where, message: `${i.cidrBlock} is outside the VPC's ${vpc ? inputsOf(vpc).cidrBlock : 'unknown'} block` });
        for (const o of subnets) {
          if (o === s || inputsOf(o).vpcId !== i.vpcId) continue;
          const d = parseCidr(String(inputsOf(o).cidrBlock));
          if (d && c.base < d.base + size(d) && d.base < c.base + size(c)) out.push({ resource: where, message: `${i.cidrBlock} overlaps ${o.name} (${inputsOf(o).cidrBlock})` });
        }
        return out;
      });
    },
    violation: { base: 'dev', patch: [{ type: SUBNET, name: 'onnx-fleet-net-private-1', set: { cidrBlock: '10.40.128.0/20' } }] },
  },
  {
    id: 'ec2-security-group-text',
    resourceTypes: [SG, ...SG_RULES],
    resource: 'Security group, security group rule',
    setting: 'GroupDescription, GroupName, Description',
    rule: 'Security group names, descriptions and rule descriptions have at most 255 characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*; a group name does not start with sg-.',
    sources: ['https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html', 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html'],
    keys: [],
    checkGraph: eachResource([SG, ...SG_RULES], (i, r) => {
      const texts: [string, unknown][] = r.type === SG ? [['description', i.description ?? 'Managed by Pulumi'], ['name', i.name ?? `${r.name}-abcdefg`]] : [['description', i.description ?? '']];
      return [
        ...texts.filter(([, t]) => !SG_TEXT.test(String(t))).map(([k, t]) => `${k} ${JSON.stringify(t)}: expected at most 255 of a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$*`),
        ...(r.type === SG && String(i.name ?? r.name).startsWith('sg-') ? ['group name starts with sg-'] : []),
      ];
    }),
    violation: { base: 'dev', patch: [{ type: SG_RULES[0], name: 'onnx-fleet-net-instances-in-runtime', set: { description: 'ALB → runtime' } }] },
  },
  {
    id: 'vpc-endpoint-service-region',
    resourceTypes: [ENDPOINT],
    resource: 'VPC gateway endpoint',
    setting: 'ServiceName',
    rule: "A gateway endpoint's service is in the VPC's own region: com.amazonaws.<region>.s3.",
    sources: ['https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html'],
    keys: ['aws:region'],
    checkGraph: (all) => {
      const region = regionOf(all);
      return eachResource([ENDPOINT], (i) => (i.vpcEndpointType === 'Gateway' && !String(i.serviceName).startsWith(`com.amazonaws.${region}.`) ? `service ${i.serviceName} is not in ${region}` : undefined))(all);
    },
    violation: { base: 'prod-eu-west-1', patch: [{ type: ENDPOINT, set: { serviceName: 'com.amazonaws.us-east-1.s3' } }] },
  },
];
