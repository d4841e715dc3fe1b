/**
 * The common AWS hardening checks of Pulumi's AWS policy pack (AWSGuard: s3-bucket-logging-enabled,
 * rds-instance-multi-az-enabled, rds-instance-backup-enabled, elb-deletion-protection-enabled,
 * alb-http-to-https-redirection, …), written for this platform's resources (AWSGuard targets
 * @pulumi/aws 5 and inline bucket logging). They apply to staging and prod — the environment is
 * the `onnx-fleet:environment` tag every resource carries — and the last two to prod only.
 * Encryption at rest and no public access hold in every environment (encryption.ts,
 * network-exposure.ts).
 */
import * as aws from '@pulumi/aws';
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from '@pulumi/policy';

export const ENVIRONMENT_TAG = 'onnx-fleet:environment';
const HARDENED = ['staging', 'prod'];
const environmentOf = (props: Record<string, any>): string | undefined => props.tags?.[ENVIRONMENT_TAG];
const hardened = (props: Record<string, any>) => HARDENED.includes(environmentOf(props) ?? '');
const isProd = (props: Record<string, any>) => environmentOf(props) === 'prod';

/** An RDS instance that is not a read replica, or an Aurora / Multi-AZ DB cluster. */
const isPrimaryInstance = (props: Record<string, any>) => !props.replicateSourceDb;

export const s3BucketLoggingEnabled: StackValidationPolicy = {
  name: 's3-bucket-logging-enabled',
  description: 'Staging and prod: every S3 bucket but the log sink sends server access logs to the log sink.',
  enforcementLevel: 'mandatory',
  validateStack: (args, reportViolation) => {
    const buckets = args.resources.filter((r) => r.isType(aws.s3.Bucket) && hardened(r.props));
    if (buckets.length === 0) args.notApplicable('no staging or prod buckets');
    const logging = args.resources.filter((r) => r.isType(aws.s3.BucketLogging));
    const sinks = new Set(logging.map((l) => l.props.targetBucket));
    const logged = new Set(logging.map((l) => l.props.bucket));
    for (const b of buckets as PolicyResource[]) {
      if (sinks.has(b.props.bucket)) continue;
      if (!logged.has(b.props.bucket)) reportViolation(`bucket ${b.props.bucket} has no server access logging: add a BucketLogging to the stack's log sink`, b.urn);
    }
    if (logging.length > 0 && sinks.size === 0) reportViolation('server access logs go nowhere');
  },
};

export const rdsMultiAz: StackValidationPolicy = {
  name: 'rds-multi-az',
  description: 'Staging and prod: every database primary survives the loss of a zone (a Multi-AZ instance, or a cluster with instances in two zones or more).',
  enforcementLevel: 'mandatory',
  validateStack: (args, reportViolation) => {
    const instances = args.resources.filter((r) => r.isType(aws.rds.Instance) && hardened(r.props) && isPrimaryInstance(r.props));
    const clusters = args.resources.filter((r) => r.isType(aws.rds.Cluster) && hardened(r.props));
    if (instances.length + clusters.length === 0) args.notApplicable('no staging or prod databases');
    for (const i of instances) if (i.props.multiAz !== true) reportViolation('database primary is not Multi-AZ', i.urn);
    for (const c of clusters) {
      if (c.props.dbClusterInstanceClass) continue; // a Multi-AZ DB cluster: one writer and two standbys in three zones, by design
      const members = args.resources.filter((r) => r.isType(aws.rds.ClusterInstance) && (r.props.clusterIdentifier === c.props.clusterIdentifier || r.props.clusterIdentifier === c.props.id));
      const zones = new Set(members.map((m) => m.props.availabilityZone).filter(Boolean));
      if (zones.size < 2) reportViolation(`cluster instances are in ${zones.size} zone(s), expected a writer and a reader in distinct zones`, c.urn);
    }
  },
};

export const rdsBackups: ResourceValidationPolicy = {
  name: 'rds-backups',
  description: 'Staging and prod: database primaries keep automated backups for at least `minimumRetentionDays` days (default 7).',
  enforcementLevel: 'mandatory',
  configSchema: { properties: { minimumRetentionDays: { type: 'integer', minimum: 1, maximum: 35, default: 7 } } },
  validateResource: [
    validateResourceOfType(aws.rds.Instance, (db, args, reportViolation) => {
      if (!hardened(db) || !isPrimaryInstance(db)) return;
      const { minimumRetentionDays = 7 } = args.getConfig<{ minimumRetentionDays?: number }>();
      if (!((db.backupRetentionPeriod ?? 0) >= minimumRetentionDays)) reportViolation(`backups kept ${db.backupRetentionPeriod ?? 0} days, expected at least ${minimumRetentionDays}`);
    }),
    validateResourceOfType(aws.rds.Cluster, (db, args, reportViolation) => {
      if (!hardened(db)) return;
      const { minimumRetentionDays = 7 } = args.getConfig<{ minimumRetentionDays?: number }>();
      if (!((db.backupRetentionPeriod ?? 1) >= minimumRetentionDays)) reportViolation(`backups kept ${db.backupRetentionPeriod ?? 1} days, expected at least ${minimumRetentionDays}`);
    }),
  ],
};

export const deletionProtection: ResourceValidationPolicy = {
  name: 'deletion-protection',
  description: 'Prod: the load balancer and the database primaries have deletion protection on.',
  enforcementLevel: 'mandatory',
  validateResource: [
    validateResourceOfType(aws.lb.LoadBalancer, (lb, _args, reportViolation) => {
      if (isProd(lb) && lb.enableDeletionProtection !== true) reportViolation('load balancer without deletion protection');
    }),
    validateResourceOfType(aws.rds.Instance, (db, _args, reportViolation) => {
      if (isProd(db) && isPrimaryInstance(db) && db.deletionProtection !== true) reportViolation('database primary without deletion protection');
    }),
    validateResourceOfType(aws.rds.Cluster, (db, _args, reportViolation) => {
      if (isProd(db) && db.deletionProtection !== true) reportViolation('database cluster without deletion protection');
    }),
  ],
};

export const albHttpToHttps: ResourceValidationPolicy = {
  name: 'alb-http-to-https-redirection',
  description: 'Prod: every HTTP listener redirects to HTTPS.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(aws.lb.Listener, (listener, _args, reportViolation) => {
    if (!isProd(listener) || listener.protocol !== 'HTTP') return;
    const actions = (listener.defaultActions ?? []) as { type: string; redirect?: { protocol?: string } }[];
    if (!actions.length || !actions.every((a) => a.type === 'redirect' && a.redirect?.protocol === 'HTTPS')) reportViolation('HTTP listener does not redirect to HTTPS');
  }),
};

export const AWS_HARDENING_POLICIES = [s3BucketLoggingEnabled, rdsMultiAz, rdsBackups, deletionProtection, albHttpToHttps];
