/** Nothing but the load balancer faces the internet, and only on 80/443. */
import type { ResourcePolicy, StackPolicy } from './types';

const fromInternet = (rule: Record<string, any>) => rule.cidrIpv4 === '0.0.0.0/0' || rule.cidrIpv6 === '::/0' || (rule.cidrBlocks ?? []).includes('0.0.0.0/0') || (rule.ipv6CidrBlocks ?? []).includes('::/0');
const webPort = (rule: Record<string, any>) => rule.fromPort === rule.toPort && [80, 443].includes(rule.fromPort);

export const noPublicExposure: ResourcePolicy = {
  name: 'no-public-exposure',
  description: 'only 80/443 open to the internet; no public IPs on instances or subnets; databases not publicly accessible; S3 public access blocked',
  validateResource(r) {
    const i = r.inputs as Record<string, any>;
    switch (r.type) {
      case 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule':
        return fromInternet(i) && !webPort(i) ? [`ingress from the internet on ports ${i.fromPort}-${i.toPort}`] : [];
      case 'aws:ec2/securityGroupRule:SecurityGroupRule':
        return i.type === 'ingress' && fromInternet(i) && !webPort(i) ? [`ingress from the internet on ports ${i.fromPort}-${i.toPort}`] : [];
      case 'aws:ec2/securityGroup:SecurityGroup':
        return (i.ingress ?? []).filter((rule: Record<string, any>) => fromInternet(rule) && !webPort(rule)).map((rule: Record<string, any>) => `inline ingress from the internet on ports ${rule.fromPort}-${rule.toPort}`);
      case 'aws:ec2/launchTemplate:LaunchTemplate':
        return (i.networkInterfaces ?? []).some((n: any) => n.associatePublicIpAddress !== 'false') ? ['instances may get a public IP'] : [];
      case 'aws:ec2/subnet:Subnet':
        return i.mapPublicIpOnLaunch ? ['subnet assigns public IPs on launch'] : [];
      case 'aws:rds/instance:Instance':
      case 'aws:rds/clusterInstance:ClusterInstance':
        return i.publiclyAccessible === false ? [] : ['database is publicly accessible'];
      case 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock':
        return ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].filter((k) => i[k] !== true).map((k) => `${k} is not set`);
      case 'aws:lb/loadBalancer:LoadBalancer':
        return i.dropInvalidHeaderFields === true ? [] : ['invalid HTTP headers are not dropped'];
      default:
        return [];
    }
  },
};

/** Internet ingress (even on 80/443) only into security groups that belong to a load balancer. */
export const internetOnlyToLoadBalancers: StackPolicy = {
  name: 'internet-only-to-load-balancers',
  description: 'security groups open to the internet are attached to load balancers and nothing else',
  validateStack(resources) {
    const lbGroups = new Set(resources.filter((r) => r.type === 'aws:lb/loadBalancer:LoadBalancer').flatMap((r) => ((r.inputs as any).securityGroups ?? []) as string[]));
    const elsewhere = new Set(
      resources
        .filter((r) => r.type === 'aws:ec2/launchTemplate:LaunchTemplate')
        .flatMap((r) => [...((r.inputs as any).vpcSecurityGroupIds ?? []), ...((r.inputs as any).networkInterfaces ?? []).flatMap((n: any) => n.securityGroups ?? [])] as string[]),
    );
    for (const r of resources.filter((x) => x.type === 'aws:rds/instance:Instance' || x.type === 'aws:rds/cluster:Cluster')) for (const g of ((r.inputs as any).vpcSecurityGroupIds ?? []) as string[]) elsewhere.add(g);
    return resources
      .filter((r) => r.type === 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule' && fromInternet(r.inputs as any))
      .flatMap((r) => {
        const group = String((r.inputs as any).securityGroupId);
        if (lbGroups.has(group) && !elsewhere.has(group)) return [];
        const where = elsewhere.has(group) ? 'is attached to instances or a database' : 'belongs to no load balancer';
        return [{ policy: 'internet-only-to-load-balancers', resource: `${r.type} ${r.name}`, message: `internet ingress into ${group}, which ${where}` }];
      });
  },
};
