/**
 * The replicated database: an Aurora PostgreSQL 15 cluster — one writer and `readers` Aurora
 * Replicas, each instance in an availability zone of its own — whose master password RDS manages
 * in Secrets Manager at the cluster level (`masterUserSecrets[0]`).
 *
 * Why Aurora (README, "The database"): AWS cannot create RDS read replicas of a source whose
 * password Secrets Manager manages (RDS User Guide, "Limitations for Secrets Manager integration
 * with Amazon RDS"); an Aurora cluster's readers are not replicas of that kind, they share the
 * cluster volume and the cluster's credentials. A commit is acknowledged once 4 of the volume's
 * 6 copies (2 in each of 3 zones) hold it, and a failover promotes a reader, which reads that
 * same volume: no acknowledged write is lost. The cluster endpoint follows the writer through a
 * failover, the reader endpoint balances connections over the readers.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { DatabaseConfig } from '../config';
import { AURORA_ENGINE, auroraParameterFamily } from './aurora-postgres';

/** Sizing and durability come straight from the stack schema's `database` block. */
export interface ReplicatedDatabaseArgs extends DatabaseConfig {
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
  /** Zones in order: the writer in the first, reader i in zone i + 1; at least 1 + readers zones. */
  availabilityZones: string[];
  /** Deletion protection on, and a final snapshot on delete. */
  protect: boolean;
  databaseName?: string;
  masterUsername?: string;
  tags?: Record<string, string>;
}

export const DATABASE_DEFAULTS = { databaseName: 'onnx_fleet', masterUsername: 'onnx_fleet', performanceInsightsRetentionDays: 7, preferredBackupWindow: '03:00-04:00', preferredMaintenanceWindow: 'sun:04:30-sun:05:30' };

export class ReplicatedDatabase extends pulumi.ComponentResource {
  readonly cluster: aws.rds.Cluster;
  readonly writer: aws.rds.ClusterInstance;
  readonly readers: aws.rds.ClusterInstance[];
  /** The cluster endpoint: always the current writer, through failovers. */
  readonly writerEndpoint: pulumi.Output<string>;
  /** The reader endpoint: balances connections over the readers (the writer when there are none). */
  readonly readerEndpoint: pulumi.Output<string>;
  /** Secrets Manager secret holding the master credentials (managed by RDS, on the cluster). */
  readonly secretArn: pulumi.Output<string>;
  readonly clusterIdentifier: pulumi.Output<string>;
  readonly databaseName: string;
  readonly masterUsername: string;

  constructor(name: string, args: ReplicatedDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:ReplicatedDatabase', name, {}, opts);
    if (1 + args.readers > args.availabilityZones.length) {
      throw new Error(`ReplicatedDatabase ${name}: a writer and ${args.readers} reader(s) need ${1 + args.readers} distinct zones, got ${args.availabilityZones.length}`);
    }
    const parent = { parent: this };
    this.databaseName = args.databaseName ?? DATABASE_DEFAULTS.databaseName;
    this.masterUsername = args.masterUsername ?? DATABASE_DEFAULTS.masterUsername;
    const subnets = new aws.rds.SubnetGroup(name, { subnetIds: args.subnetIds, tags: args.tags }, parent);
    const params = new aws.rds.ClusterParameterGroup(
      name,
      {
        // The family follows the version's major: a cluster takes only a group of its version's family.
        family: auroraParameterFamily(args.engineVersion),
        description: 'onnx-fleet Aurora PostgreSQL parameters',
        parameters: [
          { name: 'rds.force_ssl', value: '1', applyMethod: 'pending-reboot' },
          { name: 'log_min_duration_statement', value: '1000' },
          { name: 'idle_in_transaction_session_timeout', value: '60000' },
        ],
        tags: args.tags,
      },
      parent,
    );
    this.cluster = new aws.rds.Cluster(
      name,
      {
        engine: AURORA_ENGINE,
        engineVersion: args.engineVersion,
        databaseName: this.databaseName,
        masterUsername: this.masterUsername,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: args.kmsKeyArn,
        storageEncrypted: true,
        kmsKeyId: args.kmsKeyArn,
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [args.securityGroupId],
        dbClusterParameterGroupName: params.name,
        backupRetentionPeriod: args.backupRetentionDays,
        preferredBackupWindow: DATABASE_DEFAULTS.preferredBackupWindow,
        preferredMaintenanceWindow: DATABASE_DEFAULTS.preferredMaintenanceWindow,
        enabledCloudwatchLogsExports: ['postgresql'],
        copyTagsToSnapshot: true,
        deletionProtection: args.protect,
        skipFinalSnapshot: !args.protect,
        finalSnapshotIdentifier: args.protect ? `${name}-final` : undefined,
        // Off on the cluster as on every instance (AWS recommends the cluster-level setting; it
        // defaults to true): the version is pinned (rule rds-pinned-version-no-auto-minor-upgrade).
        autoMinorVersionUpgrade: false,
        tags: args.tags,
      },
      parent,
    );
    const instance = (suffix: string, zone: string, promotionTier: number, instanceOpts: pulumi.CustomResourceOptions) =>
      new aws.rds.ClusterInstance(
        `${name}-${suffix}`,
        {
          clusterIdentifier: this.cluster.id,
          engine: AURORA_ENGINE,
          engineVersion: this.cluster.engineVersion,
          instanceClass: args.instanceClass,
          availabilityZone: zone,
          promotionTier,
          dbSubnetGroupName: subnets.name,
          publiclyAccessible: false,
          performanceInsightsEnabled: true,
          performanceInsightsKmsKeyId: args.kmsKeyArn,
          performanceInsightsRetentionPeriod: DATABASE_DEFAULTS.performanceInsightsRetentionDays,
          // The stack pins the version (database.engineVersion): an upgrade RDS applied by itself would
          // make the next `pulumi up` ask for a downgrade, which RDS refuses.
          autoMinorVersionUpgrade: false,
          copyTagsToSnapshot: true,
          tags: args.tags,
        },
        // A member's engine version changes only through its cluster: RDS refuses it on the instance
        // ("The specified DB Instance is a member of a cluster. Modify the DB engine version for the DB
        // Cluster using the ModifyDbCluster API", aws/aws-cdk#22180), the provider docs say to upgrade on
        // the cluster and to ignore the instance's version (hashicorp/terraform-provider-aws#14709), and
        // older providers replaced the instances instead (#9401). So a change of database.engineVersion
        // is one ModifyDBCluster, which upgrades the writer and the readers together.
        { ...instanceOpts, ignoreChanges: ['engineVersion'] },
      );
    // The first instance of a cluster to become available is its writer: readers wait for it.
    this.writer = instance('writer', args.availabilityZones[0], 0, parent);
    this.readers = Array.from({ length: args.readers }, (_, i) => instance(`reader-${i}`, args.availabilityZones[i + 1], i + 1, { parent: this, dependsOn: [this.writer] }));
    this.writerEndpoint = this.cluster.endpoint;
    this.readerEndpoint = this.cluster.readerEndpoint;
    this.clusterIdentifier = this.cluster.clusterIdentifier;
    this.secretArn = this.cluster.masterUserSecrets.apply((s) => s?.[0]?.secretArn ?? '');
    this.registerOutputs({ writerEndpoint: this.writerEndpoint, readerEndpoint: this.readerEndpoint, secretArn: this.secretArn });
  }
}
