/**
 * Runs CrossGuard policies in-process over a synthesized graph, the way the policy analyzer the
 * Pulumi CLI starts runs them (@pulumi/policy's server.js): each resource policy gets, per
 * resource, exactly the arguments CrossGuard passes to validateResource — type, props (the
 * inputs), urn, name, opts, stackTags, isType, asType, getConfig and a notApplicable that throws
 * (validateResourceOfType calls it for other types) — and a reportViolation; each stack policy
 * gets every resource with its outputs, parent and options. Disabled policies are skipped, and a
 * validation whose attached Pulumi type differs from the resource's is not applicable, as there.
 * A PolicyPack is never constructed here: its constructor starts the gRPC server.
 */
import type { Policies, PolicyResource, PolicyResourceOptions, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { mockState, ResourceRecord } from '../../infra/testing/mock-run';

export interface PackViolation {
  policy: string;
  urn?: string;
  message: string;
}

class NotApplicable extends Error {}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicable(reason);
}

/** Is `type` the Pulumi type of `resourceClass` (its `__pulumiType`, else its `isInstance`)? */
function isTypeOf(type: string, resourceClass: any): boolean {
  if (typeof resourceClass?.__pulumiType === 'string') return resourceClass.__pulumiType === type;
  return typeof resourceClass?.isInstance === 'function' && resourceClass.isInstance({ __pulumiType: type }) === true;
}

/** URNs as the engine forms them: stack, project, the chain of parent types, then the name. */
export function urns(resources: ResourceRecord[], stack: string, project = 'onnx-fleet'): Map<ResourceRecord, string> {
  const byKey = new Map(resources.map((r) => [`${r.type}::${r.name}`, r]));
  const chain = (r: ResourceRecord): string[] => {
    const parent = r.parentType ? byKey.get(`${r.parentType}::${r.parent}`) : undefined;
    return parent ? [...chain(parent), r.type] : ['pulumi:pulumi:Stack', r.type];
  };
  return new Map(resources.map((r) => [r, `urn:pulumi:${stack}::${project}::${chain(r).join('$')}::${r.name}`]));
}

function options(r: ResourceRecord, parentUrn: string | undefined): PolicyResourceOptions {
  return {
    protect: r.protect ?? false,
    ignoreChanges: r.ignoreChanges ?? [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(parentUrn ? { parent: parentUrn } : {}),
  };
}

/** A policy's config as the engine hands it without --policy-pack-config: the schema's defaults. */
function configOf(policy: ResourceValidationPolicy | StackValidationPolicy, given: Record<string, Record<string, unknown>>): <T extends object>() => T {
  const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).filter(([, s]) => (s as any).default !== undefined).map(([k, s]) => [k, (s as any).default]));
  return <T extends object>() => ({ ...defaults, ...(given[policy.name] ?? {}) }) as T;
}

export async function runPolicies(policies: Policies, resources: ResourceRecord[], stack: string, config: Record<string, Record<string, unknown>> = {}): Promise<PackViolation[]> {
  const urnOf = urns(resources, stack);
  const byKey = new Map(resources.map((r) => [`${r.type}::${r.name}`, r]));
  const parentOf = (r: ResourceRecord) => (r.parentType ? byKey.get(`${r.parentType}::${r.parent}`) : undefined);
  const violations: PackViolation[] = [];
  const report = (policy: string, defaultUrn?: string): ReportViolation => (message: string, urn?: string) => violations.push({ policy, urn: urn ?? defaultUrn, message });
  const stackTags: ReadonlyMap<string, string> = new Map();

  for (const p of policies) {
    if (p.enforcementLevel === 'disabled') continue;
    if ('validateResource' in p && p.validateResource) {
      const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
      for (const r of resources) {
        const props = r.inputs as Record<string, any>;
        const urn = urnOf.get(r)!;
        for (const validation of validations) {
          const attached = (validation as any).__pulumiType;
          if (attached && attached !== r.type) continue;
          const args: ResourceValidationArgs = {
            type: r.type,
            props,
            urn,
            name: r.name,
            opts: options(r, parentOf(r) && urnOf.get(parentOf(r)!)),
            stackTags,
            isType: (cls: any) => isTypeOf(r.type, cls),
            asType: ((cls: any) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs['asType'],
            getConfig: configOf(p, config),
            notApplicable: throwNotApplicable,
          };
          try {
            await validation(args, report(p.name, urn));
          } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
          }
        }
      }
    }
    if ('validateStack' in p && p.validateStack) {
      const policyResources = new Map<ResourceRecord, PolicyResource>();
      for (const r of resources) {
        const props = { id: `${r.name}-id`, ...mockState(r.type, r.name, r.inputs as Record<string, any>) };
        policyResources.set(r, {
          type: r.type,
          props,
          urn: urnOf.get(r)!,
          name: r.name,
          opts: options(r, parentOf(r) && urnOf.get(parentOf(r)!)),
          dependencies: [],
          propertyDependencies: {},
          isType: (cls: any) => isTypeOf(r.type, cls),
          asType: ((cls: any) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource['asType'],
        });
      }
      for (const [r, pr] of policyResources) if (parentOf(r)) pr.parent = policyResources.get(parentOf(r)!);
      try {
        await p.validateStack({ resources: [...policyResources.values()], stackTags, getConfig: configOf(p, config), notApplicable: throwNotApplicable }, report(p.name));
      } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
      }
    }
  }
  return violations;
}
