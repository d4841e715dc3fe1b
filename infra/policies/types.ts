/**
 * In-repo policies over the resource graph, written as plain functions in the style of Pulumi
 * CrossGuard's `validateResource`: each looks at one resource and returns what is wrong with it.
 * Stack policies look at the whole graph (relations between resources).
 */
import type { ResourceRecord } from '../testing/mock-run';

export interface Violation {
  policy: string;
  resource: string;
  message: string;
}

export interface ResourcePolicy {
  name: string;
  description: string;
  validateResource(resource: ResourceRecord): string[];
}

export interface StackPolicy {
  name: string;
  description: string;
  validateStack(resources: ResourceRecord[]): Violation[];
}
