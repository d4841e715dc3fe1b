/**
 * RDS credentials: every database's master password is managed by RDS in Secrets Manager, and no
 * read replica is made of a source whose password is managed that way — AWS refuses to create one
 * ("Limitations for Secrets Manager integration with Amazon RDS", RDS User Guide: all engines but
 * SQL Server). The platform's answer is an Aurora cluster, whose readers share the cluster's
 * storage and its one managed secret.
 */
import type { ResourcePolicy, StackPolicy } from './types';

const INSTANCE = 'aws:rds/instance:Instance';
const CLUSTER = 'aws:rds/cluster:Cluster';

export const managedDatabaseCredentials: ResourcePolicy = {
  name: 'managed-database-credentials',
  description: 'Aurora clusters and RDS instances that are not replicas keep their master password in Secrets Manager (manageMasterUserPassword), none in the program, and keep backups',
  validateResource(r) {
    const i = r.inputs as Record<string, any>;
    if (r.type === CLUSTER) {
      const out: string[] = [];
      if (i.manageMasterUserPassword !== true) out.push('cluster does not keep its master password in Secrets Manager');
      if (i.masterPassword !== undefined) out.push('cluster has a master password in the program');
      if (!(i.backupRetentionPeriod >= 1)) out.push('cluster keeps no backups');
      return out;
    }
    if (r.type !== INSTANCE || i.replicateSourceDb) return [];
    const out: string[] = [];
    if (i.manageMasterUserPassword !== true) out.push('instance does not keep its master password in Secrets Manager');
    if (i.password !== undefined) out.push('instance has a password in the program');
    if (!(i.backupRetentionPeriod >= 1)) out.push('instance keeps no backups');
    return out;
  },
};

/** Relations between resources: a replica's source is another record of the graph. */
export const noReplicasOfManagedSources: StackPolicy = {
  name: 'no-replicas-of-managed-sources',
  description: 'no RDS read replica (replicateSourceDb) of a source whose master password Secrets Manager manages: AWS rejects it',
  validateStack(resources) {
    const instances = resources.filter((r) => r.type === INSTANCE);
    const managed = new Set(instances.filter((r) => (r.inputs as any).manageMasterUserPassword === true).flatMap((r) => [r.name, `${r.name}-id`, (r.inputs as any).identifier].filter(Boolean)));
    return instances
      .filter((r) => (r.inputs as any).replicateSourceDb !== undefined)
      .flatMap((r) => {
        const i = r.inputs as Record<string, any>;
        const out: string[] = [];
        if (managed.has(String(i.replicateSourceDb))) out.push(`read replica of ${i.replicateSourceDb}, whose master password Secrets Manager manages: AWS does not create it (use an Aurora cluster's readers)`);
        if (i.manageMasterUserPassword !== undefined || i.username !== undefined || i.password !== undefined) out.push('read replica sets master credentials (a replica takes its source\'s)');
        return out.map((message) => ({ policy: 'no-replicas-of-managed-sources', resource: `${r.type} ${r.name}`, message }));
      });
  },
};
