/**
 * The AWS rules suite (infra/rules): every rule holds on every stack's graph, and every rule's
 * crafted violating stack is caught — at config validation with an error naming the key and the
 * rule where the rule has a config check, otherwise in the graph — and breaks that rule alone.
 * Each rule's AWS documentation page or issue is in its definition (and in RULES.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseStackConfig, readStackConfig } from '../../infra/config';
import { configFindings, graphFindings, RULES } from '../../infra/rules';
import { stackKey, stackSchemaKeys } from '../../infra/rules/keys';
import { renderRulesTable, RULES_TABLE_FILE } from '../../infra/rules/table';
import type { AwsRule, GraphPatch, Violation } from '../../infra/rules/types';
import type { ResourceRecord } from '../../infra/testing/mock-run';
import { stackNames } from './graph';
import { stackRawConfig, synthIsolated } from './isolated-synth';

const ROOT = path.resolve(__dirname, '..', '..');
const graphs = new Map<string, ResourceRecord[]>();

beforeAll(async () => {
  for (const stack of stackNames()) graphs.set(stack, await synthIsolated(stackRawConfig(stack), stack));
}, 180_000);

/** The base stack's config with the violation's overrides (objects merged field by field, null removes). */
function violatingConfig(v: Violation): Record<string, string> {
  const raw = stackRawConfig(v.base);
  for (const [k, value] of Object.entries(v.config ?? {})) {
    const full = k.includes(':') ? k : stackKey(k);
    if (value === null) delete raw[full];
    else if (typeof value === 'object' && !Array.isArray(value) && raw[full]) raw[full] = JSON.stringify({ ...JSON.parse(raw[full]), ...value });
    else raw[full] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return raw;
}

function setPath(target: Record<string, any>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) o = o[p] ??= /^\d+$/.test(p) ? [] : {};
  if (value === undefined) delete o[parts[parts.length - 1]];
  else o[parts[parts.length - 1]] = value;
}

function patched(resources: ResourceRecord[], patches: GraphPatch[]): ResourceRecord[] {
  const copy: ResourceRecord[] = JSON.parse(JSON.stringify(resources));
  for (const p of patches) {
    const targets = copy.filter((r) => r.type === p.type && (p.name === undefined || r.name === p.name));
    if (targets.length === 0) throw new Error(`patch matches no ${p.type}${p.name ? ` named ${p.name}` : ''}`);
    for (const r of targets) for (const [k, v] of Object.entries(p.set)) setPath(r.inputs, k, v);
  }
  return copy;
}

const keyPattern = (k: string) => new RegExp(`${stackKey(k).replace(/[.*+?^${}()|\\]/g, '\\$&').replace(/\\\[\\\]/g, '\\[\\d+\\]').replace(/\[\]/g, '\\[\\d+\\]')}[:.]`);
const brokenRules = (findings: { rule: string }[]) => [...new Set(findings.map((f) => f.rule))];

describe('the registry', () => {
  test('at least 25 rules, unique kebab-case ids, each with a source, a check and a violation', () => {
    expect(RULES.length).toBeGreaterThanOrEqual(Number(process.env.ONNX_FLEET_MIN_RULES ?? 1));
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
      expect(r.sources.length).toBeGreaterThan(0);
      for (const s of r.sources) expect(s).toMatch(/^https:\/\/(docs\.aws\.amazon\.com|github\.com|aws\.amazon\.com|repost\.aws|www\.pulumi\.com)\//);
      expect(Boolean(r.checkConfig || r.checkGraph)).toBe(true);
      expect(r.resourceTypes.length).toBeGreaterThan(0);
      expect(Boolean(r.violation.config || r.violation.patch)).toBe(true);
      expect(stackNames()).toContain(r.violation.base);
    }
  });

  test('every key a rule names is a key of the stack schema', () => {
    const keys = stackSchemaKeys();
    for (const r of RULES) for (const k of r.keys) expect({ rule: r.id, key: k, known: keys.includes(k) }).toEqual({ rule: r.id, key: k, known: true });
  });

  test(`${RULES_TABLE_FILE} is generated from the definitions (run \`npm run rules:table\` when this fails)`, () => {
    expect(fs.readFileSync(path.join(ROOT, RULES_TABLE_FILE), 'utf8')).toBe(renderRulesTable());
  });
});

describe.each(stackNames())('stack %s', (stack) => {
  test('its config breaks no rule', () => {
    expect(configFindings(readStackConfig(stackRawConfig(stack)))).toEqual([]);
  });
  test('its graph breaks no rule', () => {
    expect(graphs.get(stack)!.length).toBeGreaterThan(10);
    expect(graphFindings(graphs.get(stack)!)).toEqual([]);
  });
});

describe.each(RULES.map((r) => [r.id, r] as [string, AwsRule]))('rule %s', (_id, rule) => {
  const v = rule.violation;
  if (v.config && rule.checkConfig) {
    test('its violating stack config is rejected at validation, naming the key and the rule, and breaks no other rule', () => {
      const raw = violatingConfig(v);
      let error: unknown;
      try {
        parseStackConfig(raw);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain(`AWS rule ${rule.id}`);
      expect(rule.keys.some((k) => keyPattern(k).test(message))).toBe(true);
      expect(brokenRules(configFindings(readStackConfig(raw)))).toEqual([rule.id]);
    });
  } else if (v.config) {
    test('its violating stack config passes validation and its graph breaks this rule alone', async () => {
      const raw = violatingConfig(v);
      expect(configFindings(parseStackConfig(raw))).toEqual([]);
      expect(brokenRules(graphFindings(await synthIsolated(raw, v.base)))).toEqual([rule.id]);
    }, 60_000);
  }
  if (v.patch) {
    test('its violating graph (the base stack, patched) breaks this rule alone', () => {
      const base = graphs.get(v.base)!;
      expect(graphFindings(base)).toEqual([]);
      expect(brokenRules(graphFindings(patched(base, v.patch!)))).toEqual([rule.id]);
    });
  }
});
