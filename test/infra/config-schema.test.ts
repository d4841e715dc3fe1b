/**
 * The generated artefacts of the stack schema: the editors' JSON Schema (checked in, validated
 * against every stack file with ajv, `secure:` values included) and the README's configuration
 * reference. Both fail when stale: `npm run schema` regenerates them.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { ConfigError, readStackConfig, REMOVED_KEY_PATHS } from '../../infra/config';
import { MODELINE, renderStackFileSchema, SCHEMA_FILE } from '../../infra/config/json-schema';
import { fieldSchema, removed, SECURE_DEFINITION } from '../../infra/config/kit';
import { renderReference, REFERENCE_END, REFERENCE_START } from '../../infra/config/reference';
import { NAMESPACE, STACK_FIELDS } from '../../infra/config/stack-schema';
import { STACKS_DIR, stackNames } from './graph';

const ROOT = path.join(__dirname, '..', '..');
const checkedIn = JSON.parse(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8'));

function validator(schema: object) {
  // yaml-language-server's annotations: not validation keywords, but strict ajv must know them.
  const ajv = new Ajv({ allErrors: true, strictTypes: true });
  for (const keyword of ['markdownDescription', 'deprecationMessage', 'errorMessage']) ajv.addKeyword(keyword);
  const validate = ajv.compile(schema);
  return (doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}
const validate = validator(checkedIn);
const stackDoc = (stack: string) => YAML.parse(fs.readFileSync(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`), 'utf8'));
const withConfig = (stack: string, change: Record<string, unknown>) => {
  const doc = stackDoc(stack);
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete doc.config[k];
    else doc.config[k] = v;
  }
  return doc;
};

test('the checked-in JSON Schema is the one the stack schema generates (run `npm run schema` when this fails)', () => {
  expect(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8')).toBe(renderStackFileSchema());
});

test("the README's configuration reference is the one the stack schema generates (run `npm run schema` when this fails)", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(REFERENCE_START);
  expect(start).toBeGreaterThan(0);
  expect(readme.slice(start, readme.indexOf(REFERENCE_END) + REFERENCE_END.length)).toBe(renderReference());
});

test('the reference has a row for every key path', () => {
  const reference = renderReference();
  for (const p of ['environment', 'aws:region', 'amiId', 'spot.instanceTypes', 'scaling.schedules[].recurrence', 'kubernetes.database.mode']) expect(reference).toContain(`| \`${p}\` |`);
});

describe.each(stackNames())('stacks/Pulumi.%s.yaml', (stack) => {
  test('starts with the yaml-language-server modeline pointing at the checked-in schema', () => {
    const first = fs.readFileSync(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`), 'utf8').split('\n')[0];
    expect(first).toBe(MODELINE);
    expect(path.resolve(STACKS_DIR, MODELINE.split('$schema=')[1])).toBe(path.join(ROOT, SCHEMA_FILE));
  });

  test('is valid against the checked-in schema', () => {
    expect(validate(stackDoc(stack))).toEqual([]);
  });
});

describe('what the schema accepts and refuses, as Pulumi writes stack files', () => {
  test('{secure: <ciphertext>} at the top level and inside objects, plus the secrets provider settings', () => {
    const doc = withConfig('prod-us-east-1', {
      'onnx-fleet:alarmEmail': { secure: 'v1:mFaR7qbyN0QhBm9L:GcwC1kGRD7HGUvnsb7sVqaIoGRCTbGM=' },
      'onnx-fleet:database': { ...stackDoc('prod-us-east-1').config['onnx-fleet:database'], instanceClass: { secure: 'v1:abc:def' } },
    });
    doc.encryptionsalt = 'v1:Vd1RTSsq1eQ=:v1:fMaR7sp4:nM1kNz6Ho8MT5Qvdw==';
    doc.secretsprovider = 'passphrase';
    expect(validate(doc)).toEqual([]);
  });

  test("other namespaces' keys pass through; Pulumi's strings for numbers and booleans are accepted", () => {
    expect(validate(withConfig('dev', { 'aws:profile': 'ops', 'onnx-fleet:minSize': '1', 'onnx-fleet:shards': '2' }))).toEqual([]);
  });

  test.each<[string, string, Record<string, unknown>]>([
    ['an unknown key of the namespace', 'dev', { 'onnx-fleet:instanceTyp': 'c7i.large' }],
    ['a value out of range', 'dev', { 'onnx-fleet:shards': 0 }],
    ['a value outside the allowed ones', 'dev', { 'onnx-fleet:loadBalancingAlgorithm': 'fastest' }],
    ['an unknown field of an object', 'dev', { 'onnx-fleet:database': { replicas: 1 } }],
    ['a malformed secure value', 'dev', { 'onnx-fleet:alarmEmail': { secure: '' } }],
    ['an SSM parameter as the AMI', 'dev', { 'onnx-fleet:amiId': 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' }],
    ['no region', 'dev', { 'aws:region': undefined }],
    ['no AMI on AWS', 'dev', { 'onnx-fleet:amiId': undefined }],
    ['an AMI on Kubernetes', 'dev-k8s', { 'onnx-fleet:amiId': 'ami-0123456789abcdef0' }],
    ['kubernetes settings on AWS', 'dev', { 'onnx-fleet:kubernetes': { image: 'x/y:1' } }],
    ['no kubernetes settings on Kubernetes', 'dev-k8s', { 'onnx-fleet:kubernetes': undefined }],
    ['a schedule without its recurrence', 'prod-us-east-1', { 'onnx-fleet:scaling': { schedules: [{ name: 'x', minSize: 1, maxSize: 2, desiredCapacity: 1 }] } }],
  ])('refuses %s', (_name, stack, change) => {
    expect(validate(withConfig(stack, change)).length).toBeGreaterThan(0);
  });

  test('a removed key allows no value and says what replaces it', () => {
    const schema = fieldSchema(removed({ use: 'database.writerClass', why: 'the cluster has one writer class' }), true);
    expect(schema.deprecationMessage).toBe('Removed: use database.writerClass instead (the cluster has one writer class)');
    const check = validator({ type: 'object', properties: { old: schema } });
    expect(check({ old: true }).length).toBeGreaterThan(0);
    expect(check({})).toEqual([]);
  });
});

/**
 * The schema and the parser come from one definition, so they agree on every value's type and
 * range: for each top-level key, boundary and invalid values are accepted or refused by both.
 */
describe('schema and parser agree on each key', () => {
  const candidates = (kind: any): unknown[] => {
    if (kind.type === 'integer') {
      const s = kind.schema(false);
      return [s.minimum - 1, s.minimum, s.maximum, s.maximum + 1, 1.5, 'lots'];
    }
    if (kind.type === 'number') return [-1, 0, 0.25, 60, 61, 'soon'];
    if (kind.type === 'boolean') return [true, false, 'maybe', 1];
    if (kind.type === 'string') {
      // A bare number where free text (a path) is expected: Pulumi hands the program "5", which
      // it cannot tell from a string; the schema, seeing YAML's types, is stricter there.
      const free = !kind.schema(false).pattern && !kind.schema(false).enum;
      return [...(kind.schema(false).enum ?? []), 'nope', '0', 'ami-0123456789abcdef0', 'c7i.large', 'a@b.co', 'resolve:ssm:/x', ...(free ? [] : [5])];
    }
    return [];
  };
  const topKeys = Object.entries(STACK_FIELDS).filter(([, f]) => f.kind && !f.kind.fields && f.options.platform === undefined);
  test.each(topKeys.map(([name, f]) => [f.options.configKey ?? `${NAMESPACE}:${name}`, f]))('%s', (configKey, field: any) => {
    for (const value of candidates(field.kind)) {
      const doc = withConfig('dev', { [configKey]: value });
      // As Pulumi hands stack files to the program: scalars as strings, objects as JSON.
      const flat = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) as Record<string, string>;
      let parserRefusesType = false;
      try {
        readStackConfig(flat);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        parserRefusesType = err.message.startsWith(`${configKey}: got `) && !/but|, expected at least|, expected from|in prod|certificate in/.test(err.message);
      }
      const schemaRefuses = validate(doc).some((e) => e.startsWith(`/config/${configKey.replace(/\//g, '~1')}`));
      expect({ value, refused: schemaRefuses }).toEqual({ value, refused: parserRefusesType });
    }
  });
});

test('the secure definition is the one in the checked-in schema', () => {
  expect(checkedIn.definitions.secure).toEqual(SECURE_DEFINITION);
});

test('every removed key is refused by the schema and by the parser, which names its replacement', () => {
  expect(REMOVED_KEY_PATHS.length).toBeGreaterThan(0);
  for (const removedPath of REMOVED_KEY_PATHS) {
    const [top, field] = removedPath.split('.');
    const key = `${NAMESPACE}:${top}`;
    const doc = stackDoc('dev');
    doc.config[key] = field === undefined ? 1 : { ...(doc.config[key] ?? {}), [field]: 1 };
    expect({ removedPath, refused: validate(doc).length > 0 }).toEqual({ removedPath, refused: true });
    const flat = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) as Record<string, string>;
    expect(() => readStackConfig(flat)).toThrow(new RegExp(`^${NAMESPACE}:${removedPath.replace(/[.[\]]/g, '\\$&')}: removed`));
  }
});
