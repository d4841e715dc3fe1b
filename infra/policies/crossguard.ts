/**
 * The in-repo policies (plain functions over a resource record, see types.ts) as CrossGuard
 * policies: a resource policy becomes a ResourceValidationPolicy that reports each message for the
 * resource CrossGuard hands it, a stack policy a StackValidationPolicy that reports each violation
 * on the URN of the resource it names.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import type { ResourceRecord } from '../testing/mock-run';
import type { ResourcePolicy, StackPolicy } from './types';

const record = (type: string, name: string, props: Record<string, unknown>, parent?: PolicyResource): ResourceRecord => ({
  type,
  name,
  parent: parent?.name ?? null,
  parentType: parent?.type ?? null,
  inputs: props,
});

export function resourceValidationPolicy(p: ResourcePolicy): ResourceValidationPolicy {
  return {
    name: p.name,
    description: p.description,
    enforcementLevel: 'mandatory',
    validateResource: (args, reportViolation) => {
      for (const message of p.validateResource(record(args.type, args.name, args.props))) reportViolation(message);
    },
  };
}

export function stackValidationPolicy(p: StackPolicy): StackValidationPolicy {
  return {
    name: p.name,
    description: p.description,
    enforcementLevel: 'mandatory',
    validateStack: (args, reportViolation) => {
      const urns = new Map(args.resources.map((r) => [`${r.type} ${r.name}`, r.urn]));
      for (const v of p.validateStack(args.resources.map((r) => record(r.type, r.name, r.props, r.parent)))) reportViolation(v.message, urns.get(v.resource));
    },
  };
}
