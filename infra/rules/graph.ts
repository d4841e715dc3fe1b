/** Small helpers the rule files share to read a synthesized resource graph. */
import type { ResourceRecord } from '../testing/mock-run';
import type { GraphFinding } from './types';

export type Inputs = Record<string, any>;

export const inputsOf = (r: ResourceRecord): Inputs => r.inputs as Inputs;
export const describe = (r: ResourceRecord): string => `${r.type} ${r.name}`;

/**
 * A graph check that looks at each resource of the given types on its own: `check` returns what
 * is wrong (a message, several, or nothing).
 */
export function eachResource(types: string[], check: (inputs: Inputs, resource: ResourceRecord, all: ResourceRecord[]) => string | string[] | undefined): (resources: ResourceRecord[]) => GraphFinding[] {
  return (resources) =>
    resources
      .filter((r) => types.includes(r.type))
      .flatMap((r) => {
        const found = check(inputsOf(r), r, resources);
        return (found === undefined ? [] : Array.isArray(found) ? found : [found]).map((message) => ({ resource: describe(r), message }));
      });
}

/**
 * The physical name Pulumi gives a resource whose name is not set: the logical name, a hyphen
 * and 7 random characters (https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming).
 */
export function autoName(r: ResourceRecord, nameInput = 'name'): { name: string; generated: boolean } {
  const set = inputsOf(r)[nameInput];
  if (typeof set === 'string') return { name: set, generated: false };
  return { name: `${r.name}-abcdefg`, generated: true };
}

export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** Pulumi string-typed numbers (`instanceWarmup: "300"`) read as numbers. */
export const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' ? undefined : Number(v));
