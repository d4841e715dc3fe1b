/** The in-repo policies catch what they are written for (a policy that cannot fail proves nothing). */
import { checkPolicies } from '../../infra/policies';
import type { ResourceRecord } from '../../infra/testing/mock-run';

const r = (type: string, name: string, inputs: Record<string, unknown>): ResourceRecord => ({ type, name, parent: null, parentType: null, inputs });

test.each<[string, ResourceRecord[], string]>([
  ['internet on SSH', [r('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'ssh', { cidrIpv4: '0.0.0.0/0', fromPort: 22, toPort: 22 })], 'ingress from the internet on ports 22-22'],
  ['IMDSv1 allowed', [r('aws:ec2/launchTemplate:LaunchTemplate', 'lt', { metadataOptions: { httpTokens: 'optional', httpPutResponseHopLimit: 1 }, monitoring: { enabled: true }, iamInstanceProfile: { arn: 'x' }, blockDeviceMappings: [{ ebs: { encrypted: 'true' } }], networkInterfaces: [{ associatePublicIpAddress: 'false' }] })], 'IMDSv2 is not required'],
  ['public database', [r('aws:rds/instance:Instance', 'db', { storageEncrypted: true, publiclyAccessible: true, manageMasterUserPassword: true, backupRetentionPeriod: 7 })], 'database is publicly accessible'],
  ['replica with a managed password', [r('aws:rds/instance:Instance', 'replica', { replicateSourceDb: 'db', storageEncrypted: true, publiclyAccessible: false, manageMasterUserPassword: true })], 'replica sets manageMasterUserPassword'],
  ['EC2 health checks', [r('aws:autoscaling/group:Group', 'asg', { healthCheckType: 'EC2', healthCheckGracePeriod: 300 })], 'health check type is EC2, not ELB'],
  ['unencrypted bucket', [r('aws:s3/bucket:Bucket', 'b', {})], 'no default encryption'],
])('%s is a violation', (_name, resources, message) => {
  expect(checkPolicies(resources).map((v) => v.message)).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
});
