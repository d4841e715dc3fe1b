/**
 * The stack schema's key paths, which the rules table maps to rules. Derived from the schema
 * itself (infra/config.ts): every field of a parsed stack config, objects walked, list items as
 * `[]`, so a key added to the schema appears here (and in RULES.md) without a second list.
 */
import { NAMESPACE, parseStackConfig, StackConfig } from '../config';

/** `warmPool.enabled` → `onnx-fleet:warmPool.enabled`, as config errors name keys (`aws:region` stays). */
export const stackKey = (path: string): string => (path.includes(':') ? path : `${NAMESPACE}:${path}`);

/** Parsed field → the stack key it comes from, where the names differ. */
const FIELD_TO_KEY: Record<string, string> = { region: 'aws:region' };

function walk(value: unknown, path: string, out: string[]): void {
  if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object') {
    for (const k of Object.keys(value[0])) walk((value[0] as Record<string, unknown>)[k], `${path}[].${k}`, out);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, out);
  } else out.push(FIELD_TO_KEY[path] ?? path);
}

/** Every key path of the stack schema, AWS and Kubernetes targets both. */
export function stackSchemaKeys(): string[] {
  const exemplar = (platform: string): StackConfig =>
    parseStackConfig({
      'aws:region': 'us-east-1',
      [stackKey('platform')]: platform,
      [stackKey('scaling')]: JSON.stringify({ schedules: [{ name: 'n', recurrence: '0 1 * * *', minSize: 1, maxSize: 1, desiredCapacity: 1, timeZone: 'UTC' }] }),
      ...(platform === 'kubernetes' ? { [stackKey('kubernetes')]: JSON.stringify({ image: 'runtime:1' }) } : { [stackKey('amiId')]: 'ami-0123456789abcdef0' }),
    });
  const keys: string[] = [];
  walk(exemplar('aws'), '', keys);
  walk({ kubernetes: exemplar('kubernetes').kubernetes }, '', keys);
  return [...new Set(keys)];
}
