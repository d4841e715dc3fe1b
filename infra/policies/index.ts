/** Every in-repo policy, and a runner that checks a whole graph against them. */
import type { ResourceRecord } from '../testing/mock-run';
import { managedDatabaseCredentials, noReplicasOfManagedSources } from './database';
import { bucketsHardened, encryptionAtRest } from './encryption';
import { instanceHardening } from './instances';
import { internetOnlyToLoadBalancers, noPublicExposure } from './network-exposure';
import type { ResourcePolicy, StackPolicy, Violation } from './types';

export const RESOURCE_POLICIES: ResourcePolicy[] = [encryptionAtRest, noPublicExposure, instanceHardening, managedDatabaseCredentials];
export const STACK_POLICIES: StackPolicy[] = [bucketsHardened, internetOnlyToLoadBalancers, noReplicasOfManagedSources];

export function checkPolicies(resources: ResourceRecord[]): Violation[] {
  const violations: Violation[] = [];
  for (const r of resources) {
    for (const p of RESOURCE_POLICIES) for (const message of p.validateResource(r)) violations.push({ policy: p.name, resource: `${r.type} ${r.name}`, message });
  }
  for (const p of STACK_POLICIES) violations.push(...p.validateStack(resources));
  return violations;
}

export type { ResourcePolicy, StackPolicy, Violation };
