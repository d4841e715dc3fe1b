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
/** An integer from `min` to `max` (AWS's ranges here are all of whole numbers). */
export const inRange = (v: unknown, min: number, max = Infinity): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
/** Pulumi string-typed numbers (`instanceWarmup: "300"`) read as numbers. */
export const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' ? undefined : Number(v));

/**
 * Resource references as the mock run (infra/testing/mock-run.ts) resolves them: ids are
 * `<name>-id`, ARNs `arn:aws:mock:<name>` (buckets `arn:aws:s3:::<name>-bucket`, bucket names
 * `<name>-bucket`). Graph checks that relate resources look them up through these.
 */
export function byId(resources: ResourceRecord[], id: unknown): ResourceRecord | undefined {
  return resources.find((r) => `${r.name}-id` === id);
}
export function byArn(resources: ResourceRecord[], arn: unknown): ResourceRecord | undefined {
  return resources.find((r) => `arn:aws:mock:${r.name}` === arn || (r.type === 'aws:s3/bucket:Bucket' && `arn:aws:s3:::${r.name}-bucket` === arn));
}
export function bucketNamed(resources: ResourceRecord[], bucket: unknown): ResourceRecord | undefined {
  return resources.find((r) => r.type === 'aws:s3/bucket:Bucket' && (inputsOf(r).bucket ?? `${r.name}-bucket`) === bucket);
}

/** The stack's region, from the zones its subnets are in (`us-east-1a` → `us-east-1`). */
export function regionOf(resources: ResourceRecord[]): string | undefined {
  const az = resources.map((r) => (r.type === 'aws:ec2/subnet:Subnet' ? inputsOf(r).availabilityZone : undefined)).find((z) => typeof z === 'string');
  return az?.replace(/[a-z]$/, '');
}

/** A JSON policy document input (string or object) as an object, or undefined if it is not one. */
export function policyDocument(v: unknown): { Statement?: any[] } | undefined {
  if (typeof v === 'object' && v !== null) return v as { Statement?: any[] };
  if (typeof v !== 'string') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}
/** A policy field that is one value or a list (Action, Resource, Principal.Service…) as a list of strings. */
export const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
export const statements = (doc: { Statement?: any } | undefined): any[] => (doc?.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]);
