/**
 * RDS / Aurora PostgreSQL: what AWS accepts for the platform's database (infra/aws/replicated-database.ts),
 * from the RDS and Aurora user guides and the CreateDBCluster / CreateDBInstance API references.
 */
import type { StackConfig } from '../config';
import { AURORA_DOCS, AURORA_ENGINE, AURORA_POSTGRES_VERSIONS, auroraParameterFamily, checkAuroraInstanceClass, FULL_ENGINE_VERSION } from '../aws/aurora-postgres';
import { autoName, describe, eachResource, inputsOf, num } from './graph';
import { stackKey } from './keys';
import type { AwsRule } from './types';

const CLUSTER = 'aws:rds/cluster:Cluster';
const MEMBER = 'aws:rds/clusterInstance:ClusterInstance';
const INSTANCE = 'aws:rds/instance:Instance';
const CLUSTER_PARAMS = 'aws:rds/clusterParameterGroup:ClusterParameterGroup';
const API = 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference';

/** RDS identifiers (DB clusters, DB instances, snapshots): letters, digits, hyphens; a letter first; no "--"; no trailing "-". */
function identifierProblem(id: string, max: number): string | undefined {
  if (id.length < 1 || id.length > max) return `${JSON.stringify(id)} is ${id.length} characters, expected 1 to ${max}`;
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(id)) return `${JSON.stringify(id)} must start with a letter and hold only letters, digits and hyphens`;
  if (id.includes('--') || id.endsWith('-')) return `${JSON.stringify(id)} must not contain two consecutive hyphens or end with one`;
  return undefined;
}

/** "hh24:mi-hh24:mi" (UTC) → minutes since midnight; "ddd:hh24:mi-ddd:hh24:mi" → minutes since Monday. */
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
function daily(w: string): [number, number] | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(w);
  return m ? [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])] : undefined;
}
function weekly(w: string): [number, number] | undefined {
  const m = /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$/.exec(w);
  return m ? [DAYS.indexOf(m[1]) * 1440 + Number(m[2]) * 60 + Number(m[3]), DAYS.indexOf(m[4]) * 1440 + Number(m[5]) * 60 + Number(m[6])] : undefined;
}
const span = ([a, b]: [number, number], period: number) => (b - a + period) % period;

/** One of the versions AWS has released (and so a full major.minor). */
const released = (v: string): boolean => (AURORA_POSTGRES_VERSIONS as readonly string[]).includes(v);

export const rdsRules: AwsRule[] = [
  {
    id: 'rds-aurora-postgresql-engine-version',
    resourceTypes: [CLUSTER, MEMBER],
    resource: 'Aurora DB cluster',
    setting: 'EngineVersion',
    rule: `An Aurora PostgreSQL EngineVersion is a version AWS has released, in full (major.minor) as DescribeDBEngineVersions lists it (CreateDBCluster documents a major-only shorthand for Aurora MySQL only); this platform allows ${AURORA_POSTGRES_VERSIONS.join(', ')} (release notes, PostgreSQL 15 versions).`,
    sources: [AURORA_DOCS.engineVersions, AURORA_DOCS.createCluster, AURORA_DOCS.releaseCalendar],
    keys: ['database.engineVersion'],
    checkConfig: (c: StackConfig) =>
      c.platform === 'aws' && !released(c.database.engineVersion)
        ? {
            key: 'database.engineVersion',
            message: `got ${JSON.stringify(c.database.engineVersion)}, expected one of ${AURORA_POSTGRES_VERSIONS.join(', ')}: the Aurora PostgreSQL 15 versions AWS's release notes list (${AURORA_DOCS.engineVersions}), in full major.minor (a major-only version is documented for Aurora MySQL only)`,
          }
        : undefined,
    checkGraph: eachResource([CLUSTER, MEMBER], (i) =>
      i.engine === AURORA_ENGINE && i.engineVersion !== undefined && !released(String(i.engineVersion)) ? `engine version ${JSON.stringify(i.engineVersion)}, expected one of ${AURORA_POSTGRES_VERSIONS.join(', ')}` : undefined,
    ),
    violation: { base: 'dev', config: { database: { engineVersion: '15' } } },
  },
  {
    id: 'rds-aurora-parameter-group-family',
    resourceTypes: [CLUSTER, CLUSTER_PARAMS],
    resource: 'Aurora DB cluster parameter group',
    setting: 'DBParameterGroupFamily with the cluster\'s EngineVersion',
    rule: "A DB cluster parameter group belongs to one family and applies only to a cluster whose engine version is of that family: an Aurora PostgreSQL <major>.x cluster takes a group of family aurora-postgresql<major>.",
    sources: [AURORA_DOCS.clusterParameterGroup, AURORA_DOCS.modifyCluster],
    keys: ['database.engineVersion'],
    checkGraph: (all) =>
      eachResource([CLUSTER], (i) => {
        if (i.engine !== AURORA_ENGINE || i.engineVersion === undefined || i.dbClusterParameterGroupName === undefined) return undefined;
        const group = all.find((r) => r.type === CLUSTER_PARAMS && [inputsOf(r).name, autoName(r).name, r.name].includes(i.dbClusterParameterGroupName));
        if (!group) return `parameter group ${JSON.stringify(i.dbClusterParameterGroupName)} is not declared in the stack`;
        const family = inputsOf(group).family;
        const expected = auroraParameterFamily(String(i.engineVersion));
        return family === expected ? undefined : `engine version ${i.engineVersion} with parameter group ${describe(group)} of family ${family}, expected ${expected}`;
      })(all),
    violation: { base: 'staging', patch: [{ type: CLUSTER_PARAMS, set: { family: 'aurora-postgresql14' } }] },
  },
  {
    id: 'rds-pinned-version-no-auto-minor-upgrade',
    resourceTypes: [CLUSTER, MEMBER],
    resource: 'Aurora DB cluster and its instances',
    setting: "AutoMinorVersionUpgrade with the cluster's EngineVersion",
    rule: 'RDS does not downgrade an engine: once it has applied an automatic minor upgrade, an update that sends the pinned EngineVersion fails (Cannot upgrade aurora-postgresql from 15.y to 15.x). A pinned version needs AutoMinorVersionUpgrade off on the cluster (AWS recommends the cluster-level setting; it defaults to true) and on every instance (Aurora upgrades a cluster only when all its instances have it on, and a cluster setting left true while an instance is false is changed to false by AWS: a perpetual diff).',
    sources: [
      AURORA_DOCS.autoMinorUpgrades,
      AURORA_DOCS.versionPolicyUpgrading,
      AURORA_DOCS.lts,
      'https://github.com/terraform-aws-modules/terraform-aws-rds-aurora/issues/228',
      'https://github.com/hashicorp/terraform-provider-aws/issues/48936',
    ],
    keys: [],
    checkGraph: (all) => {
      const pinned = all.filter((r) => r.type === CLUSTER && FULL_ENGINE_VERSION.test(String(inputsOf(r).engineVersion)));
      const ids = new Set(pinned.map((r) => `${r.name}-id`));
      return [
        ...eachResource([CLUSTER], (i) => (FULL_ENGINE_VERSION.test(String(i.engineVersion)) && i.autoMinorVersionUpgrade !== false ? `automatic minor upgrades on (the default) while the cluster pins engine version ${i.engineVersion}` : undefined))(all),
        ...eachResource([MEMBER], (i) => (ids.has(i.clusterIdentifier) && i.autoMinorVersionUpgrade !== false ? `automatic minor upgrades on (the default) while its cluster pins engine version ${i.engineVersion}` : undefined))(all),
      ];
    },
    violation: { base: 'staging', patch: [{ type: CLUSTER, set: { autoMinorVersionUpgrade: true } }] },
  },
  {
    id: 'rds-managed-password-no-read-replicas',
    resourceTypes: [INSTANCE, CLUSTER],
    resource: 'RDS DB instance / Aurora DB cluster',
    setting: 'ManageMasterUserPassword with ReplicateSourceDb / ReplicationSourceIdentifier',
    rule: 'Secrets Manager cannot manage the master password when a read replica is created from a source whose credentials it manages (RDS, every engine but SQL Server), nor for an Aurora cross-Region read replica.',
    sources: [
      AURORA_DOCS.rdsSecretsManagerLimits,
      `${AURORA_DOCS.secretsManager}#rds-secrets-manager-limitations`,
      'https://github.com/terraform-aws-modules/terraform-aws-rds/issues/512',
      'https://github.com/terraform-aws-modules/terraform-aws-rds/issues/532',
    ],
    keys: ['database.readers'],
    checkGraph: (all) => {
      const managed = new Set(all.filter((r) => r.type === INSTANCE && inputsOf(r).manageMasterUserPassword === true).flatMap((r) => [r.name, `${r.name}-id`, inputsOf(r).identifier]));
      return all.flatMap((r) => {
        const i = inputsOf(r);
        if (r.type === INSTANCE && i.replicateSourceDb !== undefined && managed.has(i.replicateSourceDb)) return [{ resource: describe(r), message: `read replica of ${i.replicateSourceDb}, whose master password Secrets Manager manages` }];
        if (r.type === CLUSTER && i.replicationSourceIdentifier !== undefined && i.manageMasterUserPassword === true) return [{ resource: describe(r), message: `read replica of ${i.replicationSourceIdentifier} with a master password Secrets Manager manages` }];
        return [];
      });
    },
    violation: { base: 'staging', patch: [{ type: CLUSTER, set: { replicationSourceIdentifier: 'arn:aws:rds:us-west-2:123456789012:cluster:onnx-fleet-source' } }] },
  },
  {
    id: 'rds-aurora-instance-class',
    resourceTypes: [MEMBER],
    resource: 'Aurora DB instance',
    setting: 'DBInstanceClass',
    rule: 'An Aurora PostgreSQL 15 instance runs only on the classes Aurora offers for it: no micro/small classes, no general-purpose db.m* classes (those are RDS for PostgreSQL).',
    sources: [AURORA_DOCS.instanceClasses],
    keys: ['database.instanceClass'],
    checkConfig: (c: StackConfig) => {
      if (c.platform !== 'aws') return undefined;
      const v = checkAuroraInstanceClass(c.database.instanceClass);
      return v.ok ? undefined : { key: 'database.instanceClass', message: `got ${JSON.stringify(c.database.instanceClass)}, expected an Aurora PostgreSQL 15 instance class such as db.t4g.medium (dev) or db.r6g.large: ${v.reason}` };
    },
    checkGraph: eachResource([MEMBER], (i) => {
      const v = checkAuroraInstanceClass(String(i.instanceClass));
      return v.ok ? undefined : `instance class ${i.instanceClass}: ${v.reason}`;
    }),
    violation: { base: 'dev', config: { database: { instanceClass: 'db.m6g.large' } } },
  },
  {
    id: 'rds-aurora-readers-distinct-zones',
    resourceTypes: [MEMBER],
    resource: 'Aurora DB cluster instances',
    setting: 'AvailabilityZone',
    rule: "Aurora fails over to a reader; for it to survive a zone's loss, the writer and each reader are in an availability zone of their own, among the zones of the cluster's subnets (at most 15 readers).",
    sources: ['https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Overview.html', 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html'],
    keys: ['database.readers', 'availabilityZones'],
    checkConfig: (c: StackConfig) =>
      c.database.readers > c.availabilityZones.length - 1
        ? { key: 'database.readers', message: `got ${c.database.readers}, expected at most ${c.availabilityZones.length - 1}: each reader runs in an availability zone of its own, apart from the writer's, and ${stackKey('availabilityZones')} is ${c.availabilityZones.length}` }
        : undefined,
    checkGraph: (all) => {
      const zones = new Set(all.filter((r) => r.type === 'aws:ec2/subnet:Subnet').map((r) => inputsOf(r).availabilityZone));
      const byCluster = new Map<string, typeof all>();
      for (const r of all.filter((x) => x.type === MEMBER)) byCluster.set(String(inputsOf(r).clusterIdentifier), [...(byCluster.get(String(inputsOf(r).clusterIdentifier)) ?? []), r]);
      return [...byCluster.values()].flatMap((members) =>
        members.flatMap((r, n) => {
          const az = inputsOf(r).availabilityZone;
          if (az === undefined) return [{ resource: describe(r), message: 'no availability zone: AWS may place it beside another instance of the cluster' }];
          if (!zones.has(az)) return [{ resource: describe(r), message: `zone ${az} holds none of the stack's subnets` }];
          return members.slice(0, n).some((o) => inputsOf(o).availabilityZone === az) ? [{ resource: describe(r), message: `shares zone ${az} with another instance of its cluster` }] : [];
        }),
      );
    },
    violation: { base: 'staging', config: { database: { readers: 3 } } },
  },
  {
    id: 'rds-backup-retention',
    resourceTypes: [CLUSTER],
    resource: 'Aurora DB cluster',
    setting: 'BackupRetentionPeriod',
    rule: 'Automated backups of an Aurora cluster are kept 1 to 35 days (Aurora cannot turn them off).',
    sources: [`${API}/API_CreateDBCluster.html`, 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/disaster-recovery-resiliency.html'],
    keys: ['database.backupRetentionDays'],
    checkGraph: eachResource([CLUSTER], (i) => {
      const d = num(i.backupRetentionPeriod ?? 1)!;
      return Number.isInteger(d) && d >= 1 && d <= 35 ? undefined : `backup retention ${d} days, expected 1 to 35`;
    }),
    violation: { base: 'dev', patch: [{ type: CLUSTER, set: { backupRetentionPeriod: 0 } }] },
  },
  {
    id: 'rds-final-snapshot',
    resourceTypes: [CLUSTER],
    resource: 'Aurora DB cluster',
    setting: 'SkipFinalSnapshot / FinalDBSnapshotIdentifier',
    rule: 'Deleting a cluster without skipping the final snapshot needs a final snapshot identifier: 1 to 255 letters, digits or hyphens, a letter first, no two consecutive hyphens, no trailing hyphen.',
    sources: [`${API}/API_DeleteDBCluster.html`, 'https://www.pulumi.com/registry/packages/aws/api-docs/rds/cluster/'],
    keys: ['environment'],
    checkGraph: eachResource([CLUSTER], (i) => {
      if (i.skipFinalSnapshot === true) return undefined;
      if (typeof i.finalSnapshotIdentifier !== 'string') return 'keeps a final snapshot on delete but names none (finalSnapshotIdentifier)';
      return identifierProblem(i.finalSnapshotIdentifier, 255);
    }),
    violation: { base: 'dev', patch: [{ type: CLUSTER, set: { skipFinalSnapshot: false } }] },
  },
  {
    id: 'rds-identifiers',
    resourceTypes: [CLUSTER, MEMBER],
    resource: 'Aurora DB cluster / DB instance',
    setting: 'DBClusterIdentifier / DBInstanceIdentifier',
    rule: 'A DB cluster or DB instance identifier is 1 to 63 letters, digits or hyphens, a letter first, with no two consecutive hyphens and no trailing hyphen.',
    sources: [`${API}/API_CreateDBCluster.html`, `${API}/API_CreateDBInstance.html`],
    keys: [],
    checkGraph: (all) => [
      ...eachResource([CLUSTER], (_i, r) => identifierProblem(autoName(r, 'clusterIdentifier').name, 63))(all),
      ...eachResource([MEMBER], (_i, r) => identifierProblem(autoName(r, 'identifier').name, 63))(all),
    ],
    violation: { base: 'dev', patch: [{ type: CLUSTER, set: { clusterIdentifier: 'onnx--fleet-db' } }] },
  },
  {
    id: 'rds-backup-maintenance-windows',
    resourceTypes: [CLUSTER],
    resource: 'Aurora DB cluster',
    setting: 'PreferredBackupWindow / PreferredMaintenanceWindow',
    rule: 'The backup window is hh24:mi-hh24:mi (UTC) and at least 30 minutes; the maintenance window ddd:hh24:mi-ddd:hh24:mi and at least 30 minutes; the two must not overlap.',
    sources: [`${API}/API_CreateDBCluster.html`],
    keys: [],
    checkGraph: eachResource([CLUSTER], (i) => {
      const out: string[] = [];
      const b = i.preferredBackupWindow === undefined ? undefined : daily(String(i.preferredBackupWindow));
      const m = i.preferredMaintenanceWindow === undefined ? undefined : weekly(String(i.preferredMaintenanceWindow));
      if (i.preferredBackupWindow !== undefined && (!b || span(b, 1440) < 30)) out.push(`backup window ${JSON.stringify(i.preferredBackupWindow)}, expected hh24:mi-hh24:mi of at least 30 minutes`);
      if (i.preferredMaintenanceWindow !== undefined && (!m || span(m, 10080) < 30)) out.push(`maintenance window ${JSON.stringify(i.preferredMaintenanceWindow)}, expected ddd:hh24:mi-ddd:hh24:mi of at least 30 minutes`);
      if (b && m) {
        // Minute by minute over the week: is any minute of a daily backup window inside the maintenance window?
        const inMaintenance = (t: number) => span([m[0], t % 10080], 10080) < span(m, 10080);
        const overlaps = DAYS.some((_d, day) => Array.from({ length: span(b, 1440) }, (_x, k) => day * 1440 + b[0] + k).some(inMaintenance));
        if (overlaps) out.push(`backup window ${i.preferredBackupWindow} overlaps maintenance window ${i.preferredMaintenanceWindow}`);
      }
      return out.length ? out : undefined;
    }),
    violation: { base: 'dev', patch: [{ type: CLUSTER, set: { preferredBackupWindow: '04:45-05:00' } }] },
  },
];
