/**
 * The stack files in an editor: the real yaml-language-server (what VS Code's YAML extension
 * runs) loads the checked-in schema through each file's modeline, and then completes keys,
 * shows their documentation and flags bad values on the line where they are.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCHEMA_FILE } from '../../infra/config/json-schema';
import YAML from 'yaml';
import { fieldSchema, removed } from '../../infra/config/kit';
import { STACK_FIELDS } from '../../infra/config/stack-schema';
import { STACKS_DIR, stackNames } from './graph';

const SCHEMA_URI = pathToFileURL(path.join(__dirname, '..', '..', SCHEMA_FILE)).href;
const HELPER = path.join(__dirname, '..', 'helpers', 'yaml-editor.mjs');

type Op = { op: 'problems' | 'complete' | 'hover'; stack: string; text: string; line?: number; character?: number };

/** Runs the operations in one language service, reading schemas from disk as the extension does; `schemaText` overrides the checked-in one. */
function editor(ops: Op[], schemaText?: string): any[] {
  const request = { schemaUri: SCHEMA_URI, schemaText, ops: ops.map(({ stack, ...op }) => ({ ...op, uri: pathToFileURL(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`)).href })) };
  const { results, errors } = JSON.parse(execFileSync(process.execPath, [HELPER], { input: JSON.stringify(request), encoding: 'utf8' }));
  expect(errors).toEqual([]); // a crash inside the service must not pass as "no problems"
  return results;
}

const source = (stack: string) => fs.readFileSync(path.join(STACKS_DIR, `Pulumi.${stack}.yaml`), 'utf8');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));

test('no stack file has a problem in the editor', () => {
  const stacks = stackNames();
  const results = editor(stacks.map((stack) => ({ op: 'problems', stack, text: source(stack) })));
  expect(Object.fromEntries(stacks.map((s, i) => [s, results[i]]))).toEqual(Object.fromEntries(stacks.map((s) => [s, []])));
});

test('a value out of range and an unknown key are flagged on their own lines', () => {
  const text = source('dev').replace('onnx-fleet:shards: 2', 'onnx-fleet:shards: 0\n  onnx-fleet:colour: blue');
  const [problems] = editor([{ op: 'problems', stack: 'dev', text }]);
  expect(problems).toEqual(
    expect.arrayContaining([
      { line: lineOf(text, 'onnx-fleet:shards'), message: expect.stringMatching(/below the minimum of 1/) },
      { line: lineOf(text, 'onnx-fleet:colour'), message: expect.stringMatching(/not accepted/) },
    ]),
  );
  expect(problems).toHaveLength(2);
});

test('secure values and Pulumi-written strings raise no problem', () => {
  const text = source('prod-us-east-1').replace(/onnx-fleet:alarmEmail: .*/, 'onnx-fleet:alarmEmail:\n    secure: v1:mFaR7qbyN0QhBm9L:GcwC1kGRD7HGUvnsb7sVqaIoGRCTbGM=').replace('onnx-fleet:shards: 4', 'onnx-fleet:shards: "4"');
  expect(editor([{ op: 'problems', stack: 'prod-us-east-1', text }])).toEqual([[]]);
});

test('completes the keys of the namespace under config:, and the fields of an object key', () => {
  const top = `${source('dev')}  onnx-fleet:ca`;
  const lines = top.split('\n');
  const nested = source('dev').replace('    backupRetentionDays: 1', '    backupRetentionDays: 1\n    ');
  const [keys, fields] = editor([
    { op: 'complete', stack: 'dev', text: top, line: lines.length - 1, character: lines[lines.length - 1].length },
    { op: 'complete', stack: 'dev', text: nested, line: lineOf(nested, 'backupRetentionDays') + 1, character: 4 },
  ]);
  expect(keys).toEqual(expect.arrayContaining(['onnx-fleet:scaling', 'onnx-fleet:canaryWeight', 'onnx-fleet:spot']));
  // Every field of onnx-fleet:database the file does not set yet (and no removed one) is offered.
  const set = Object.keys(YAML.parse(source('dev')).config['onnx-fleet:database']);
  const offered = Object.entries(STACK_FIELDS.database.kind!.fields!).filter(([n, f]) => !set.includes(n) && f.presence !== 'removed').map(([n]) => n);
  expect(offered.length).toBeGreaterThan(0);
  expect(fields).toEqual(expect.arrayContaining(offered));
});

test("hover shows the key's description and its default per environment", () => {
  const text = source('dev');
  const [hover] = editor([{ op: 'hover', stack: 'dev', text, line: lineOf(text, 'onnx-fleet:shards'), character: 5 }]);
  expect(hover).toContain('Capture buckets (shards).');
  expect(hover).toContain('Default: dev `2`, staging `2`, prod `4`');
});

test('a removed key is flagged with what replaces it', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', SCHEMA_FILE), 'utf8'));
  schema.properties.config.properties['onnx-fleet:oldKey'] = fieldSchema(removed({ use: 'shards', why: 'renamed' }), true);
  schema.properties.config.propertyNames.anyOf[0].enum.push('onnx-fleet:oldKey');
  const text = source('dev').replace('onnx-fleet:shards: 2', 'onnx-fleet:oldKey: 2');
  const [problems] = editor([{ op: 'problems', stack: 'dev', text }], JSON.stringify(schema));
  // The service reports the refused value ("Matches a schema that is not allowed.") and, on the same line, the deprecation message.
  expect(problems).toEqual(expect.arrayContaining([{ line: lineOf(text, 'oldKey'), message: 'Removed: use shards instead (renamed)' }]));
  expect(problems.every((p: { line: number }) => p.line === lineOf(text, 'oldKey'))).toBe(true);
});
