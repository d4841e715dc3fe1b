/** Data at rest is encrypted everywhere: S3, EBS, RDS and Aurora (storage, master secret, Performance Insights), SNS. */
import type { ResourcePolicy, StackPolicy } from './types';

export const encryptionAtRest: ResourcePolicy = {
  name: 'encryption-at-rest',
  description: 'S3 default encryption, EBS volumes, RDS storage and Performance Insights, and SNS topics are encrypted',
  validateResource(r) {
    const i = r.inputs as Record<string, any>;
    switch (r.type) {
      case 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration': {
        const algo = i.rules?.[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm;
        return algo === 'aws:kms' || algo === 'AES256' ? [] : [`default encryption is ${algo ?? 'missing'}`];
      }
      case 'aws:ec2/launchTemplate:LaunchTemplate':
        return (i.blockDeviceMappings ?? []).every((b: any) => b.ebs?.encrypted === 'true') && (i.blockDeviceMappings ?? []).length > 0 ? [] : ['EBS volumes are not encrypted'];
      case 'aws:rds/instance:Instance': {
        const out: string[] = [];
        if (i.storageEncrypted !== true) out.push('storage is not encrypted');
        if (i.performanceInsightsEnabled && !i.performanceInsightsKmsKeyId) out.push('Performance Insights data is not encrypted with the stack key');
        return out;
      }
      case 'aws:rds/cluster:Cluster': {
        const out: string[] = [];
        if (i.storageEncrypted !== true || !i.kmsKeyId) out.push('cluster storage is not encrypted with the stack key');
        if (i.manageMasterUserPassword && !i.masterUserSecretKmsKeyId) out.push('master secret is not encrypted with the stack key');
        return out;
      }
      case 'aws:rds/clusterInstance:ClusterInstance':
        return i.performanceInsightsEnabled && !i.performanceInsightsKmsKeyId ? ['Performance Insights data is not encrypted with the stack key'] : [];
      case 'aws:sns/topic:Topic':
        return i.kmsMasterKeyId ? [] : ['topic is not encrypted'];
      default:
        return [];
    }
  },
};

/** Every bucket has default encryption, all public access blocked, versioning and a TLS-only policy. */
export const bucketsHardened: StackPolicy = {
  name: 'buckets-hardened',
  description: 'every S3 bucket has default encryption, a public access block, versioning and a TLS-only bucket policy',
  validateStack(resources) {
    const byType = (t: string) => new Set(resources.filter((r) => r.type === t).map((r) => r.name));
    const sse = byType('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration');
    const pab = byType('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock');
    const versioning = byType('aws:s3/bucketVersioning:BucketVersioning');
    const tls = new Set(
      resources
        .filter((r) => r.type === 'aws:s3/bucketPolicy:BucketPolicy' && /"aws:SecureTransport":"false"/.test(String((r.inputs as any).policy)))
        .map((r) => r.name),
    );
    return resources
      .filter((r) => r.type === 'aws:s3/bucket:Bucket')
      .flatMap((b) =>
        [
          [sse, 'no default encryption'],
          [pab, 'no public access block'],
          [versioning, 'no versioning'],
          [tls, 'no TLS-only bucket policy'],
        ]
          .filter(([set]) => !(set as Set<string>).has(b.name))
          .map(([, message]) => ({ policy: 'buckets-hardened', resource: b.name, message: message as string })),
      );
  },
};
