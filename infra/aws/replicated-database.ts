/**
 * The replicated database: RDS PostgreSQL 15, a Multi-AZ primary whose master password RDS
 * manages in Secrets Manager, plus read replicas each pinned to a distinct availability zone.
 * Replicas take their credentials from the primary: AWS rejects a managed password on them.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { DatabaseConfig } from '../config';

/** Sizing and durability come straight from the stack schema's `database` block. */
export interface ReplicatedDatabaseArgs extends DatabaseConfig {
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
  /** Zones for the replicas, one each, in order; must hold at least `readReplicas` zones. */
  availabilityZones: string[];
  /** Deletion protection on, and a final snapshot on delete. */
  protect: boolean;
  databaseName?: string;
  masterUsername?: string;
  tags?: Record<string, string>;
}

export const DATABASE_DEFAULTS = { databaseName: 'onnx_fleet', masterUsername: 'onnx_fleet', performanceInsightsRetentionDays: 7 };

export class ReplicatedDatabase extends pulumi.ComponentResource {
  readonly primary: aws.rds.Instance;
  readonly replicas: aws.rds.Instance[];
  readonly writerEndpoint: pulumi.Output<string>;
  readonly readerEndpoints: pulumi.Output<string[]>;
  /** Secrets Manager secret holding the master credentials (managed by RDS). */
  readonly secretArn: pulumi.Output<string>;
  readonly databaseName: string;
  readonly masterUsername: string;

  constructor(name: string, args: ReplicatedDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:ReplicatedDatabase', name, {}, opts);
    if (args.readReplicas > args.availabilityZones.length) {
      throw new Error(`ReplicatedDatabase ${name}: ${args.readReplicas} replicas need ${args.readReplicas} distinct zones, got ${args.availabilityZones.length}`);
    }
    const parent = { parent: this };
    this.databaseName = args.databaseName ?? DATABASE_DEFAULTS.databaseName;
    this.masterUsername = args.masterUsername ?? DATABASE_DEFAULTS.masterUsername;
    const subnets = new aws.rds.SubnetGroup(name, { subnetIds: args.subnetIds, tags: args.tags }, parent);
    const params = new aws.rds.ParameterGroup(
      name,
      {
        family: 'postgres15',
        description: 'onnx-fleet PostgreSQL parameters',
        parameters: [
          { name: 'rds.force_ssl', value: '1', applyMethod: 'pending-reboot' },
          { name: 'log_min_duration_statement', value: '1000' },
          { name: 'idle_in_transaction_session_timeout', value: '60000' },
        ],
        tags: args.tags,
      },
      parent,
    );
    const common = {
      instanceClass: args.instanceClass,
      storageEncrypted: true,
      kmsKeyId: args.kmsKeyArn,
      publiclyAccessible: false,
      vpcSecurityGroupIds: [args.securityGroupId],
      parameterGroupName: params.name,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: args.kmsKeyArn,
      performanceInsightsRetentionPeriod: DATABASE_DEFAULTS.performanceInsightsRetentionDays,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      tags: args.tags,
    };
    this.primary = new aws.rds.Instance(
      name,
      {
        ...common,
        engine: 'postgres',
        engineVersion: args.engineVersion,
        dbName: this.databaseName,
        username: this.masterUsername,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: args.kmsKeyArn,
        multiAz: args.multiAz,
        dbSubnetGroupName: subnets.name,
        allocatedStorage: args.allocatedStorageGb,
        maxAllocatedStorage: args.maxAllocatedStorageGb,
        storageType: 'gp3',
        backupRetentionPeriod: args.backupRetentionDays,
        deletionProtection: args.protect,
        skipFinalSnapshot: !args.protect,
        finalSnapshotIdentifier: args.protect ? `${name}-final` : undefined,
      },
      parent,
    );
    this.replicas = Array.from({ length: args.readReplicas }, (_, i) =>
      new aws.rds.Instance(
        `${name}-replica-${i}`,
        {
          ...common,
          replicateSourceDb: this.primary.identifier,
          availabilityZone: args.availabilityZones[i],
          backupRetentionPeriod: 0,
          skipFinalSnapshot: true,
          deletionProtection: args.protect,
        },
        parent,
      ),
    );
    this.writerEndpoint = this.primary.address;
    this.readerEndpoints = pulumi.all(this.replicas.map((r) => r.address));
    this.secretArn = this.primary.masterUserSecrets.apply((s) => s?.[0]?.secretArn ?? '');
    this.registerOutputs({ writerEndpoint: this.writerEndpoint, readerEndpoints: this.readerEndpoints, secretArn: this.secretArn });
  }
}
