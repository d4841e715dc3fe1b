/** RDS: replicas take credentials from the primary (AWS rejects a managed password on a replica). */
import type { ResourcePolicy } from './types';

export const replicaCredentials: ResourcePolicy = {
  name: 'replica-credentials',
  description: 'read replicas set no master username, password or managed password; the primary manages its password in Secrets Manager',
  validateResource(r) {
    if (r.type !== 'aws:rds/instance:Instance') return [];
    const i = r.inputs as Record<string, any>;
    if (i.replicateSourceDb) {
      return ['manageMasterUserPassword', 'username', 'password'].filter((k) => i[k] !== undefined).map((k) => `replica sets ${k}`);
    }
    const out: string[] = [];
    if (i.manageMasterUserPassword !== true) out.push('primary does not keep its master password in Secrets Manager');
    if (i.password !== undefined) out.push('primary has a password in the program');
    if (!(i.backupRetentionPeriod >= 1)) out.push('primary keeps no backups (replicas need them)');
    return out;
  },
};
