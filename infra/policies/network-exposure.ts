/** Nothing but the load balancer faces the internet, and only on 80/443. */
import type { ResourcePolicy } from './types';

export const noPublicExposure: ResourcePolicy = {
  name: 'no-public-exposure',
  description: 'only 80/443 open to the internet; no public IPs on instances or subnets; databases not publicly accessible; S3 public access blocked',
  validateResource(r) {
    const i = r.inputs as Record<string, any>;
    switch (r.type) {
      case 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule':
        if ((i.cidrIpv4 === '0.0.0.0/0' || i.cidrIpv6 === '::/0') && !(i.fromPort === i.toPort && [80, 443].includes(i.fromPort))) {
          return [`ingress from the internet on ports ${i.fromPort}-${i.toPort}`];
        }
        return [];
      case 'aws:ec2/launchTemplate:LaunchTemplate':
        return (i.networkInterfaces ?? []).some((n: any) => n.associatePublicIpAddress !== 'false') ? ['instances may get a public IP'] : [];
      case 'aws:ec2/subnet:Subnet':
        return i.mapPublicIpOnLaunch ? ['subnet assigns public IPs on launch'] : [];
      case 'aws:rds/instance:Instance':
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
