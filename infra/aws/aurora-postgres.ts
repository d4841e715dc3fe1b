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
  releaseCalendar: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html',
  versionPolicy: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.VersionPolicy.html',
  versionPolicyUpgrading: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.VersionPolicy.Upgrading.html',
  lts: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Updates.LTS.html',
  autoMinorUpgrades: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Maintenance.AMVU.html',
  clusterParameterGroup: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterParameterGroup.html',
} as const;

export const AURORA_ENGINE = 'aurora-postgresql';

/**
 * Aurora PostgreSQL 15 minor versions a stack may pin (`database.engineVersion`): released ones,
 * as AWS's Aurora PostgreSQL release notes list them under "PostgreSQL 15 versions"
 * (AURORA_DOCS.engineVersions; 15.10 and 15.14 also in AWS's announcements "Aurora PostgreSQL
 * supports 16.6, 15.10, 14.15, 13.18, 12.22" and "… 17.6, 16.10, 15.14, 14.19, 13.22"). Only
 * versions confirmed released are listed (add one with its release note). Older 15.x minors
 * (15.2-15.8) are left out: AWS keeps a non-LTS minor for about 12 months
 * (AURORA_DOCS.versionPolicy). What a region offers today: `aws rds describe-db-engine-versions
 * --engine aurora-postgresql --region <region>`; a version AWS retires is removed here.
 */
export const AURORA_POSTGRES_VERSIONS = ['15.10', '15.12', '15.14', '15.15'] as const;
/**
 * The long-term-support (LTS) minor of Aurora PostgreSQL 15: available for at least three years
 * and patched in place (15.10.x: the EngineVersion stays 15.10), where other minors are retired
 * after about 12 months and then upgraded by AWS whatever AutoMinorVersionUpgrade says
 * (AURORA_DOCS.lts, AURORA_DOCS.versionPolicyUpgrading).
 */
export const AURORA_POSTGRES_LTS_VERSION = '15.10';
/**
 * The engine version new stacks run: the LTS minor. The platform pins the version and turns
 * automatic minor upgrades off, which is how AWS says to stay on an LTS minor for its lifetime;
 * a non-LTS pin would be upgraded by AWS within a year and the next `pulumi up` would then ask
 * RDS for a downgrade (rule rds-pinned-version-no-auto-minor-upgrade).
 */
export const AURORA_POSTGRES_ENGINE_VERSION = AURORA_POSTGRES_LTS_VERSION;
/** A full Aurora PostgreSQL version (major.minor), as DescribeDBEngineVersions lists it. */
export const FULL_ENGINE_VERSION = /^\d+\.\d+$/;

/**
 * The DB cluster parameter group family of an Aurora PostgreSQL version: `aurora-postgresql<major>`
 * (DescribeDBEngineVersions' DBParameterGroupFamily). A cluster only takes a parameter group of
 * its engine version's family (AURORA_DOCS.clusterParameterGroup).
 */
export function auroraParameterFamily(engineVersion: string): string {
  return `${AURORA_ENGINE}${engineVersion.split('.')[0]}`;
}
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
