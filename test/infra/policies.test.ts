/** The in-repo policies catch what they are written for (a policy that cannot fail proves nothing). */
import { checkPolicies } from '../../infra/policies';
import type { ResourceRecord } from '../../infra/testing/mock-run';

const r = (type: string, name: string, inputs: Record<string, unknown>): ResourceRecord => ({ type, name, parent: null, parentType: null, inputs });

test.each<[string, ResourceRecord[], string]>([
  ['internet on SSH', [r('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'ssh', { cidrIpv4: '0.0.0.0/0', fromPort: 22, toPort: 22 })], 'ingress from the internet on ports 22-22'],
  ['IMDSv1 allowed', [r('aws:ec2/launchTemplate:LaunchTemplate', 'lt', { metadataOptions: { httpTokens: 'optional', httpPutResponseHopLimit: 1 }, monitoring: { enabled: true }, iamInstanceProfile: { arn: 'x' }, blockDeviceMappings: [{ ebs: { encrypted: 'true' } }], networkInterfaces: [{ associatePublicIpAddress: 'false' }] })], 'IMDSv2 is not required'],
  ['public database', [r('aws:rds/instance:Instance', 'db', { storageEncrypted: true, publiclyAccessible: true, manageMasterUserPassword: true, backupRetentionPeriod: 7 })], 'database is publicly accessible'],
  // The design issue 13 found: RDS read replicas of a primary whose password Secrets Manager manages, which AWS refuses
  // ("Limitations for Secrets Manager integration with Amazon RDS", RDS User Guide).
  ['a read replica of a managed-password primary', [
    r('aws:rds/instance:Instance', 'db', { storageEncrypted: true, publiclyAccessible: false, manageMasterUserPassword: true, backupRetentionPeriod: 7 }),
    r('aws:rds/instance:Instance', 'replica', { replicateSourceDb: 'db-id', storageEncrypted: true, publiclyAccessible: false }),
  ], 'read replica of db-id, whose master password Secrets Manager manages: AWS does not create it'],
  ['replica with its own credentials', [r('aws:rds/instance:Instance', 'replica', { replicateSourceDb: 'db', storageEncrypted: true, publiclyAccessible: false, manageMasterUserPassword: true })], 'read replica sets master credentials'],
  ['an Aurora cluster with a password in the program', [r('aws:rds/cluster:Cluster', 'db', { storageEncrypted: true, kmsKeyId: 'k', masterPassword: 'hunter2', backupRetentionPeriod: 7 })], 'cluster does not keep its master password in Secrets Manager'],
  ['an unencrypted Aurora cluster', [r('aws:rds/cluster:Cluster', 'db', { manageMasterUserPassword: true, masterUserSecretKmsKeyId: 'k', backupRetentionPeriod: 7 })], 'cluster storage is not encrypted with the stack key'],
  ['a public Aurora instance', [r('aws:rds/clusterInstance:ClusterInstance', 'db-writer', { publiclyAccessible: true })], 'database is publicly accessible'],
  ['EC2 health checks', [r('aws:autoscaling/group:Group', 'asg', { healthCheckType: 'EC2', healthCheckGracePeriod: 300 })], 'health check type is EC2, not ELB'],
  ['no launch hook', [r('aws:autoscaling/group:Group', 'asg', { healthCheckType: 'ELB', healthCheckGracePeriod: 300 })], 'no launch lifecycle hook'],
  ['inline SSH from the internet', [r('aws:ec2/securityGroup:SecurityGroup', 'sg', { ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrBlocks: ['0.0.0.0/0'] }] })], 'inline ingress from the internet on ports 22-22'],
  ['internet 443 straight to instances', [
    r('aws:lb/loadBalancer:LoadBalancer', 'alb', { securityGroups: ['alb-sg'], dropInvalidHeaderFields: true }),
    r('aws:ec2/launchTemplate:LaunchTemplate', 'lt', { vpcSecurityGroupIds: ['app-sg'], metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 }, monitoring: { enabled: true }, iamInstanceProfile: { arn: 'x' }, blockDeviceMappings: [{ ebs: { encrypted: 'true' } }], networkInterfaces: [] }),
    r('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'https', { securityGroupId: 'app-sg', cidrIpv4: '0.0.0.0/0', fromPort: 443, toPort: 443 }),
  ], 'internet ingress into app-sg, which is attached to instances or a database'],
  ['unencrypted bucket', [r('aws:s3/bucket:Bucket', 'b', {})], 'no default encryption'],
])('%s is a violation', (_name, resources, message) => {
  expect(checkPolicies(resources).map((v) => v.message)).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
});
