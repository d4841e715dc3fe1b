/**
 * The network: a VPC over the stack's availability zones with public subnets (load balancer,
 * NAT) and private subnets (instances, database), NAT per zone or one, an S3 gateway endpoint,
 * and the security-group chain internet → ALB (80/443) → instances (runtime port) → database (5432).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { DEFAULT_PORT } from '../../runtime/contract';

export const POSTGRES_PORT = 5432;

export interface NetworkArgs {
  /** Zones to span, in order (2–3). */
  availabilityZones: string[];
  /** A private /16. Default 10.40.0.0/16. */
  cidrBlock?: string;
  /** `perAz` (prod: one zone's outage cannot cut the others off) or `single` (dev: cheaper). Default perAz. */
  natGateways?: 'perAz' | 'single';
  region: string;
  tags?: Record<string, string>;
}

export const NETWORK_DEFAULTS = { cidrBlock: '10.40.0.0/16', natGateways: 'perAz' as const };

export class Network extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly publicSubnets: aws.ec2.Subnet[];
  readonly privateSubnets: aws.ec2.Subnet[];
  readonly albSecurityGroup: aws.ec2.SecurityGroup;
  readonly instanceSecurityGroup: aws.ec2.SecurityGroup;
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup;
  readonly s3Endpoint: aws.ec2.VpcEndpoint;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:Network', name, {}, opts);
    const cidr = args.cidrBlock ?? NETWORK_DEFAULTS.cidrBlock;
    const nat = args.natGateways ?? NETWORK_DEFAULTS.natGateways;
    const tags = args.tags ?? {};
    const octets = cidr.split('.');
    // /20 blocks: public subnets take blocks 0–2, private subnets 8–10 (room for growth in between).
    const subnetCidr = (block: number) => `${octets[0]}.${octets[1]}.${block * 16}.0/20`;
    const parent = { parent: this };

    this.vpc = new aws.ec2.Vpc(name, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: name } }, parent);
    const igw = new aws.ec2.InternetGateway(name, { vpcId: this.vpc.id, tags: { ...tags, Name: name } }, parent);

    const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, { vpcId: this.vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags: { ...tags, Name: `${name}-public` } }, parent);
    this.publicSubnets = args.availabilityZones.map((az, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-public-${i}`, { vpcId: this.vpc.id, availabilityZone: az, cidrBlock: subnetCidr(i), mapPublicIpOnLaunch: false, tags: { ...tags, Name: `${name}-public-${az}`, tier: 'public' } }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, parent);
      return subnet;
    });

    const natCount = nat === 'perAz' ? args.availabilityZones.length : 1;
    const natGateways = Array.from({ length: natCount }, (_, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags: { ...tags, Name: `${name}-nat-${i}` } }, parent);
      return new aws.ec2.NatGateway(`${name}-nat-${i}`, { allocationId: eip.id, subnetId: this.publicSubnets[i].id, tags: { ...tags, Name: `${name}-nat-${i}` } }, parent);
    });

    const privateRouteTables: aws.ec2.RouteTable[] = [];
    this.privateSubnets = args.availabilityZones.map((az, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-private-${i}`, { vpcId: this.vpc.id, availabilityZone: az, cidrBlock: subnetCidr(8 + i), mapPublicIpOnLaunch: false, tags: { ...tags, Name: `${name}-private-${az}`, tier: 'private' } }, parent);
      const routes = new aws.ec2.RouteTable(`${name}-private-${i}`, { vpcId: this.vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: natGateways[Math.min(i, natCount - 1)].id }], tags: { ...tags, Name: `${name}-private-${az}` } }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: routes.id }, parent);
      privateRouteTables.push(routes);
      return subnet;
    });

    // Artifacts and capture traffic to S3 stays off the NAT gateways.
    this.s3Endpoint = new aws.ec2.VpcEndpoint(`${name}-s3`, { vpcId: this.vpc.id, serviceName: `com.amazonaws.${args.region}.s3`, vpcEndpointType: 'Gateway', routeTableIds: privateRouteTables.map((t) => t.id), tags }, parent);

    const sg = (suffix: string, description: string) => new aws.ec2.SecurityGroup(`${name}-${suffix}`, { vpcId: this.vpc.id, description, tags: { ...tags, Name: `${name}-${suffix}` } }, parent);
    this.albSecurityGroup = sg('alb', 'onnx-fleet load balancer: HTTP/HTTPS from the internet');
    this.instanceSecurityGroup = sg('instances', 'onnx-fleet runtime instances: runtime port from the load balancer only');
    this.databaseSecurityGroup = sg('database', 'onnx-fleet database: PostgreSQL from the runtime instances only');

    for (const port of [80, 443]) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-alb-in-${port}`, { securityGroupId: this.albSecurityGroup.id, ipProtocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: '0.0.0.0/0', description: `internet to ALB ${port}` }, parent);
    }
    new aws.vpc.SecurityGroupEgressRule(`${name}-alb-out-runtime`, { securityGroupId: this.albSecurityGroup.id, ipProtocol: 'tcp', fromPort: DEFAULT_PORT, toPort: DEFAULT_PORT, referencedSecurityGroupId: this.instanceSecurityGroup.id, description: 'ALB to runtime' }, parent);
    new aws.vpc.SecurityGroupIngressRule(`${name}-instances-in-runtime`, { securityGroupId: this.instanceSecurityGroup.id, ipProtocol: 'tcp', fromPort: DEFAULT_PORT, toPort: DEFAULT_PORT, referencedSecurityGroupId: this.albSecurityGroup.id, description: 'ALB to runtime' }, parent);
    new aws.vpc.SecurityGroupEgressRule(`${name}-instances-out-https`, { securityGroupId: this.instanceSecurityGroup.id, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', description: 'AWS APIs (S3, Secrets Manager, Auto Scaling) over HTTPS' }, parent);
    new aws.vpc.SecurityGroupEgressRule(`${name}-instances-out-db`, { securityGroupId: this.instanceSecurityGroup.id, ipProtocol: 'tcp', fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, referencedSecurityGroupId: this.databaseSecurityGroup.id, description: 'runtime to PostgreSQL' }, parent);
    new aws.vpc.SecurityGroupIngressRule(`${name}-database-in-pg`, { securityGroupId: this.databaseSecurityGroup.id, ipProtocol: 'tcp', fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, referencedSecurityGroupId: this.instanceSecurityGroup.id, description: 'runtime to PostgreSQL' }, parent);

    this.registerOutputs({ vpcId: this.vpc.id, publicSubnetIds: this.publicSubnets.map((s) => s.id), privateSubnetIds: this.privateSubnets.map((s) => s.id) });
  }
}
