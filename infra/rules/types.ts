/**
 * One AWS rule: an API constraint the platform relies on, written down once with where AWS says
 * so, checked over a synthesized resource graph and/or at stack config validation, and carrying
 * the crafted stack that breaks it alone (the rules suite proves each one is caught).
 */
import type { StackConfig } from '../config';
import type { ResourceRecord } from '../testing/mock-run';

/** What a config-time check reports: the stack schema key path at fault and why. */
export interface ConfigFinding {
  /** Key path without the namespace, as in the schema: `warmPool.enabled`, `scaling.schedules[].name`. */
  key: string;
  /** `got <value>, …; expected …` in the style of every other config error. */
  message: string;
}

/** What a graph-time check reports: the resource (`<type> <name>`) and what AWS would reject. */
export interface GraphFinding {
  resource: string;
  message: string;
}

/** Sets resource inputs on a synthesized graph, for settings the stack schema does not expose. */
export interface GraphPatch {
  type: string;
  /** Logical name; absent = every resource of the type. */
  name?: string;
  /** Dotted input path (`healthCheck.interval`, `instanceRefresh.preferences.checkpointDelay`) → value. */
  set: Record<string, unknown>;
}

/**
 * The crafted stack that breaks this rule alone. `config` overrides keys of the base stack file
 * (object-valued keys are merged field by field; `null` removes a key); `patch` changes the base
 * stack's synthesized graph where no stack key reaches the setting.
 */
export interface Violation {
  /** Stack file in stacks/ it starts from, e.g. `staging`. */
  base: string;
  /** Key (without namespace, or `aws:region`) → value as YAML would give it. */
  config?: Record<string, unknown>;
  patch?: GraphPatch[];
}

export interface AwsRule {
  /** Kebab-case id, unique, prefixed by the service: `tg-health-check-interval`. */
  id: string;
  /** Pulumi type tokens of the resources it constrains. */
  resourceTypes: string[];
  /** The AWS resource and setting, for the table: `ALB target group`, `HealthCheckIntervalSeconds`. */
  resource: string;
  setting: string;
  /** The rule as one sentence, in AWS's terms. */
  rule: string;
  /** AWS documentation pages or GitHub issues it comes from (at least one). */
  sources: string[];
  /** Stack schema key paths whose values this rule constrains (empty: no key reaches the setting). */
  keys: string[];
  /** Over the whole graph: what breaks the rule. At least one of checkGraph / checkConfig. */
  checkGraph?(resources: ResourceRecord[]): GraphFinding[];
  /** At config validation: what in the parsed stack config breaks the rule (undefined = nothing). */
  checkConfig?(config: StackConfig): ConfigFinding | undefined;
  violation: Violation;
}
