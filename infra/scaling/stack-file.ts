/**
 * Writes values into a Pulumi stack file in place with the `yaml` package's Document API, so
 * everything else stays as it was: comments, key order, `secure:` values. Each value written gets
 * a comment above its key saying where the number comes from; comments that `plan` wrote before
 * (lines starting with "plan:") are replaced, anyone else's are kept.
 */
import YAML, { Document, isMap, isScalar, Pair, Scalar, YAMLMap } from 'yaml';

export const PLAN_COMMENT_PREFIX = 'plan:';

export interface StackEdit {
  /** Path under `config:`, e.g. ['onnx-fleet:scaling', 'saturationTarget']. */
  path: string[];
  value: unknown;
  /** Why this value (one or more lines, without '#'). */
  why: string;
}

function pairOf(map: YAMLMap, key: string): Pair<Scalar, unknown> | undefined {
  return map.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key) as Pair<Scalar, unknown> | undefined;
}

function mergeComment(existing: string | null | undefined, why: string): string {
  const kept = (existing ?? '').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith(PLAN_COMMENT_PREFIX));
  return [...kept, ...why.split('\n').map((l) => ` ${PLAN_COMMENT_PREFIX} ${l}`)].join('\n');
}

export function applyStackEdits(text: string, edits: StackEdit[]): string {
  const doc: Document = YAML.parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`the stack file is not valid YAML: ${doc.errors[0].message}`);
  let config = doc.get('config');
  if (config === undefined) {
    doc.set('config', doc.createNode({}));
    config = doc.get('config');
  }
  if (!isMap(config)) throw new Error('the stack file\'s "config" is not a mapping');
  for (const edit of edits) {
    let map = config as YAMLMap;
    for (const segment of edit.path.slice(0, -1)) {
      let pair = pairOf(map, segment);
      if (!pair) {
        map.set(doc.createNode(segment), doc.createNode({}));
        pair = pairOf(map, segment)!;
      }
      if (!isMap(pair.value)) throw new Error(`${edit.path.join('.')}: ${segment} is not a mapping in the stack file`);
      map = pair.value;
    }
    const leaf = edit.path[edit.path.length - 1];
    let pair = pairOf(map, leaf);
    if (!pair) {
      map.set(doc.createNode(leaf), doc.createNode(edit.value));
      pair = pairOf(map, leaf)!;
    } else if (isScalar(pair.value) && (typeof edit.value !== 'object' || edit.value === null)) {
      // Keep the node (and its inline comment); change the value only.
      pair.value.value = edit.value;
    } else {
      pair.value = doc.createNode(edit.value);
    }
    if (!isScalar(pair.key)) pair.key = doc.createNode(pair.key) as Scalar;
    pair.key.commentBefore = mergeComment(pair.key.commentBefore, edit.why);
  }
  return doc.toString();
}
