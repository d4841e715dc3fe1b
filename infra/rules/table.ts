/**
 * RULES.md, generated from the rule definitions: every rule (resource, setting, rule, where it
 * is enforced, source) and every stack schema key with the rules that constrain it.
 * `npm run rules:table` rewrites it; the rules suite fails when it is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RULES } from './index';
import { stackSchemaKeys } from './keys';
import type { AwsRule } from './types';

export const RULES_TABLE_FILE = path.join('infra', 'rules', 'RULES.md');

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const enforced = (r: AwsRule) => [r.checkConfig ? 'config' : '', r.checkGraph ? 'graph' : ''].filter(Boolean).join(' + ');
const link = (url: string) => {
  const gh = /^https:\/\/github\.com\/([^/]+\/[^/]+)\/(issues|pull)\/(\d+)/.exec(url);
  if (gh) return `[${gh[1]}#${gh[3]}](${url})`;
  return `[${url.replace(/^https:\/\/(docs\.aws\.amazon\.com\/)?/, '').replace(/\.html$/, '').split('/').slice(-1)[0] || url}](${url})`;
};

export function renderRulesTable(rules: AwsRule[] = RULES, keys: string[] = stackSchemaKeys()): string {
  const lines = [
    '# AWS rules',
    '',
    '<!-- Generated from infra/rules/*.ts by `npm run rules:table`; test/infra/rules.test.ts fails when it is stale. -->',
    '',
    `${rules.length} rules. Each is checked over every stack's synthesized graph (graph) and/or when the stack config is validated (config), and each has a crafted stack that breaks it alone, which the rules suite proves is caught.`,
    '',
    '| id | resource | setting | rule | enforced at | source |',
    '|---|---|---|---|---|---|',
    ...rules.map((r) => `| \`${r.id}\` | ${cell(r.resource)} | ${cell(r.setting)} | ${cell(r.rule)} | ${enforced(r)} | ${r.sources.map(link).join(', ')} |`),
    '',
    '## Stack schema keys',
    '',
    'Every key of the stack schema (infra/config.ts) and the rules that constrain its value; "none" where AWS sets no rule the key can break.',
    '',
    '| key | rules |',
    '|---|---|',
    ...keys.map((k) => {
      const ids = rules.filter((r) => r.keys.includes(k)).map((r) => `\`${r.id}\``);
      return `| \`${k}\` | ${ids.length ? ids.join(', ') : 'none'} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

if (require.main === module) {
  // Run from dist/infra/rules/: the repository root is three levels up.
  fs.writeFileSync(path.resolve(__dirname, '..', '..', '..', RULES_TABLE_FILE), renderRulesTable());
  process.stdout.write(`wrote ${RULES_TABLE_FILE} (${RULES.length} rules)\n`);
}
