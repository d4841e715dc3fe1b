/**
 * What Aurora PostgreSQL offers, as data (no Pulumi import, so the stack schema can validate
 * against it offline): the instance classes it runs on, the engine's parameter-group family and
 * the documentation each fact comes from.
 */

export const AURORA_DOCS = {
  instanceClasses: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html',
  burstableForDevOnly: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Managing.html',
  secretsManager: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html',
  rdsSecretsManagerLimits: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations',
  storage: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Overview.StorageReliability.html',
  endpoints: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Endpoints.Cluster.html',
  failover: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverDBCluster.html',
  metrics: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html',
  createCluster: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html',
  modifyCluster: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBCluster.html',
  engineVersions: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/AuroraPostgreSQL.Updates.html',
  upgrades: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_UpgradeDBInstance.PostgreSQL.html',
} as const;

export const AURORA_ENGINE = 'aurora-postgresql';
/**
 * The engine version new stacks run: a full version, as CreateDBCluster's EngineVersion lists them
 * (`aws rds describe-db-engine-versions --engine aurora-postgresql`); the API documents a
 * major-only shorthand (5.7, 8.0) for Aurora MySQL only. 15.14: Aurora PostgreSQL release notes,
 * PostgreSQL 15 versions.
 */
export const AURORA_POSTGRES_ENGINE_VERSION = '15.14';
/** A full Aurora PostgreSQL version (major.minor), as DescribeDBEngineVersions lists it. */
export const FULL_ENGINE_VERSION = /^\d+\.\d+$/;
export const AURORA_PARAMETER_FAMILY = 'aurora-postgresql15';
/** An Aurora cluster holds a writer and at most 15 Aurora Replicas. */
export const AURORA_MAX_READERS = 15;

/**
 * Provisioned instance classes Aurora PostgreSQL 15 runs on ("Supported DB engines for DB instance
 * classes", Aurora User Guide), deliberately a subset: the current families only (db.t4g rather
 * than db.t3). Aurora PostgreSQL has no micro/small classes (its smallest is db.t4g.medium) and no
 * general-purpose db.m* classes, both of which RDS for PostgreSQL offers. db.serverless is left
 * out: it needs a Serverless v2 capacity range this platform does not set.
 */
const SIZES_FROM_LARGE = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'];
export const AURORA_POSTGRES_INSTANCE_CLASSES: Record<string, string[]> = {
  't4g': ['medium', 'large'],
  'r5': [...SIZES_FROM_LARGE, '24xlarge'],
  'r6g': SIZES_FROM_LARGE,
  'r6i': [...SIZES_FROM_LARGE, '24xlarge', '32xlarge'],
  'r7g': SIZES_FROM_LARGE,
  'r8g': [...SIZES_FROM_LARGE, '24xlarge', '48xlarge'],
  'x2g': SIZES_FROM_LARGE,
};

export type InstanceClassVerdict = { ok: true; burstable: boolean } | { ok: false; reason: string };

/** Whether Aurora PostgreSQL 15 offers `instanceClass`, and if not, why in one phrase. */
export function checkAuroraInstanceClass(instanceClass: string): InstanceClassVerdict {
  const m = /^db\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceClass);
  if (!m) return { ok: false, reason: 'not an instance class name (db.<family>.<size>)' };
  const [, family, size] = m;
  const sizes = AURORA_POSTGRES_INSTANCE_CLASSES[family];
  if (!sizes) {
    const hint = family.startsWith('m') ? ' (general-purpose db.m* classes are RDS for PostgreSQL only)' : '';
    return { ok: false, reason: `Aurora PostgreSQL has no db.${family} classes${hint}` };
  }
  if (!sizes.includes(size)) {
    const hint = ['micro', 'small'].includes(size) ? `; its smallest is db.${family}.medium` : '';
    return { ok: false, reason: `Aurora PostgreSQL offers db.${family} in ${sizes.join(', ')}${hint}` };
  }
  return { ok: true, burstable: family.startsWith('t') };
}
