/**
 * The compiled command line (dist/cli/index.js, what bin/onnx-fleet runs): one dispatcher that
 * hands each command to the part it drives, with exit codes 0 ok / 2 usage.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT } from '../helpers/runtime';

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });

test('help lists every command with how to call it; no command is a usage error', () => {
  const help = run('--help');
  expect(help.status).toBe(0);
  for (const cmd of ['serve', 'synth', 'bundle', 'captures']) expect(help.stdout).toMatch(new RegExp(`^  ${cmd}\\s+.+onnx-fleet ${cmd}`, 'm'));
  const none = run();
  expect(none.status).toBe(2);
  expect(none.stdout).toBe(help.stdout);
});

test('an unknown command names itself and exits 2', () => {
  const r = run('deploy');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^onnx-fleet: unknown command "deploy"/);
});

test('version prints package.json version', () => {
  const r = run('--version');
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
});

test('each command is handed its own arguments', () => {
  const serve = run('serve', '--port', 'eighty', '--model-repository', 'models');
  expect(serve.status).toBe(2);
  expect(serve.stderr).toMatch(/onnx-fleet serve: --port: got "eighty"/);
  const synth = run('synth');
  expect(synth.status).toBe(2);
  expect(synth.stderr).toMatch(/onnx-fleet synth: --stack or --config-file is required/);
  const bundle = run('bundle', '--arch', 'sparc');
  expect(bundle.status).toBe(2);
  expect(bundle.stderr).toMatch(/onnx-fleet bundle: --arch: got "sparc", expected one of x64, arm64/);
  const captures = run('captures', 'purge');
  expect(captures.status).toBe(2);
  expect(captures.stderr).toMatch(/unknown subcommand "purge"/);
});

test('the bin launcher runs the dispatcher', () => {
  const r = spawnSync(path.join(ROOT, 'bin', 'onnx-fleet'), ['help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^Commands:/m);
});
