/**
 * The stack configuration: its TypeScript types and `parseStackConfig`, both derived from the one
 * definition in stack-schema.ts. Reads a flat map of `namespace:key` → value, as Pulumi stores it
 * (objects as JSON); every error names the key, the value received and what is allowed.
 */
import { ConfigError, decodeRoot, ENVIRONMENTS, Environment, Infer, walk } from './kit';
import { ALGORITHMS, ARCHES, NAMESPACE, PLATFORMS, STACK_FIELDS } from './stack-schema';
// The AWS rules use this module only when called (no import-time cycle).
import { configFindings } from '../rules';

export { ConfigError, ENVIRONMENTS };
export type { Environment };
export { ALGORITHMS, ARCHES, NAMESPACE, NAT_STRATEGIES, PLATFORMS, REGION_AZS, STACK_FIELDS } from './stack-schema';

export type Platform = (typeof PLATFORMS)[number];
export type Algorithm = (typeof ALGORITHMS)[number];
export type Arch = (typeof ARCHES)[number];

export type StackConfig = Infer<typeof STACK_FIELDS>;
export type SpotConfig = StackConfig['spot'];
export type ScalingConfig = StackConfig['scaling'];
export type ScheduleConfig = ScalingConfig['schedules'][number];
export type DatabaseConfig = StackConfig['database'];
export type KubernetesConfig = NonNullable<StackConfig['kubernetes']>;

/**
 * Reads and validates a stack's configuration. `raw` maps `namespace:key` to the stored string.
 * Checks each key against the schema, then the AWS rules that apply to stack keys (infra/rules):
 * the error names the key and the rule.
 */
export function parseStackConfig(raw: Record<string, string | undefined>): StackConfig {
  const config = readStackConfig(raw);
  const broken = configFindings(config)[0];
  if (broken) throw new ConfigError(`${broken.where.includes(':') ? broken.where : `${NAMESPACE}:${broken.where}`}: ${broken.message} (AWS rule ${broken.rule}, see infra/rules/RULES.md)`);
  return config;
}

/** parseStackConfig without the AWS rules: each key's type, range and the schema's own checks. */
export function readStackConfig(raw: Record<string, string | undefined>): StackConfig {
  return decodeRoot(STACK_FIELDS, { namespace: NAMESPACE }, raw) as StackConfig;
}

const ENTRIES = walk(STACK_FIELDS, { namespace: NAMESPACE });

/**
 * Every key path a stack can set, depth first: `environment`, `spot`, `spot.enabled`,
 * `scaling.schedules[].name`, `aws:region` (keys outside the namespace keep their full name).
 * Removed keys are in REMOVED_KEY_PATHS instead.
 */
export const KEY_PATHS: readonly string[] = ENTRIES.filter((e) => e.field.presence !== 'removed').map((e) => e.path);
/** Keys that were retired: setting one is an error naming its replacement. */
export const REMOVED_KEY_PATHS: readonly string[] = ENTRIES.filter((e) => e.field.presence === 'removed').map((e) => e.path);
/** Leaf key paths only (no object that merely groups fields): what a rules table maps. */
export const LEAF_KEY_PATHS: readonly string[] = ENTRIES.filter((e) => e.field.presence !== 'removed' && !e.field.kind?.fields && !e.field.kind?.item?.fields).map((e) => e.path);
