/**
 * The stack schema's key paths, which the rules table maps to rules: the schema's own list
 * (infra/config, LEAF_KEY_PATHS), so a key added to the schema appears in RULES.md by itself.
 */
import { LEAF_KEY_PATHS, NAMESPACE } from '../config';

/** `warmPool.enabled` → `onnx-fleet:warmPool.enabled`, as config errors name keys (`aws:region` stays). */
export const stackKey = (path: string): string => (path.includes(':') ? path : `${NAMESPACE}:${path}`);

/** Every leaf key path of the stack schema, AWS and Kubernetes targets both. */
export function stackSchemaKeys(): string[] {
  return [...LEAF_KEY_PATHS];
}
