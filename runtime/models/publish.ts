/**
 * Publishing to a model repository (what `onnx-fleet models` does): a version's files first, its
 * manifest last, so a reader sees the version whole or not at all; release manifests replace one
 * object. In a local directory the version is assembled under a hidden name and renamed into place.
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatReleaseManifest, parseReleaseManifest, ReleaseManifest, RELEASE_MANIFEST } from './release-manifest';
import { DirStore, RepositoryStore } from './repository-store';
import { listFiles, manifestOf, parseVersionManifest, VERSION_MANIFEST } from './version-manifest';

export type Progress = (event: { step: 'file' | 'manifest' | 'release'; key: string; bytes?: number; index?: number; total?: number }) => void | Promise<void>;

/** Versions of a model that exist (have a manifest), ascending. */
export async function publishedVersions(store: RepositoryStore, model: string): Promise<number[]> {
  const objects = await store.list(`${model}/`);
  const out: number[] = [];
  for (const o of objects) {
    const m = /^[^/]+\/([1-9]\d*)\/manifest\.json$/.exec(o.key);
    if (m) out.push(Number(m[1]));
  }
  if (store instanceof DirStore) {
    // A local repository may hold versions copied in by hand, without manifests.
    const dir = path.join(store.location, model);
    if (fs.existsSync(dir)) for (const d of fs.readdirSync(dir)) if (/^[1-9]\d*$/.test(d) && !out.includes(Number(d))) out.push(Number(d));
  }
  return out.sort((a, b) => a - b);
}

export interface PublishOptions {
  model: string;
  /** Directory holding the version's files (model.onnx, …). */
  source: string;
  /** Default: one above the newest published version. */
  version?: number;
  /** A config.json to publish for the model with this version (before the version's manifest). */
  config?: string;
  progress?: Progress;
}

export async function publishVersion(store: RepositoryStore, opts: PublishOptions): Promise<{ version: number; files: number; bytes: number }> {
  if (!fs.existsSync(path.join(opts.source, 'model.onnx'))) throw new Error(`${opts.source} has no model.onnx; a version directory holds model.onnx and any files it needs`);
  const existing = await publishedVersions(store, opts.model);
  const version = opts.version ?? (existing.length ? existing[existing.length - 1] + 1 : 1);
  if (existing.includes(version)) throw new Error(`${opts.model} version ${version} is already published in ${store.location}; versions are immutable, publish a new number`);
  const manifest = manifestOf(opts.source, opts.model, version);
  const files = listFiles(opts.source).filter((f) => f !== VERSION_MANIFEST);
  if (opts.config !== undefined) {
    const body = fs.readFileSync(opts.config);
    await store.put(`${opts.model}/config.json`, body);
    await opts.progress?.({ step: 'file', key: `${opts.model}/config.json`, bytes: body.length });
  }
  const manifestBody = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  // A local repository: assemble under a hidden name (scans skip dot names), then rename whole.
  const prefix = store instanceof DirStore ? `${opts.model}/.${version}.publishing` : `${opts.model}/${version}`;
  let bytes = 0;
  for (const [i, rel] of files.entries()) {
    const body = fs.readFileSync(path.join(opts.source, ...rel.split('/')));
    bytes += body.length;
    await store.put(`${prefix}/${rel}`, body);
    await opts.progress?.({ step: 'file', key: `${opts.model}/${version}/${rel}`, bytes: body.length, index: i + 1, total: files.length });
  }
  await store.put(`${prefix}/${VERSION_MANIFEST}`, manifestBody);
  if (store instanceof DirStore) fs.renameSync(path.join(store.location, opts.model, `.${version}.publishing`), path.join(store.location, opts.model, String(version)));
  await opts.progress?.({ step: 'manifest', key: `${opts.model}/${version}/${VERSION_MANIFEST}` });
  return { version, files: files.length, bytes };
}

export async function readRelease(store: RepositoryStore, model: string): Promise<ReleaseManifest | undefined> {
  const body = await store.get(`${model}/${RELEASE_MANIFEST}`);
  return body === undefined ? undefined : parseReleaseManifest(body.toString('utf8'), `${store.location}${model}/${RELEASE_MANIFEST}`);
}

export async function writeRelease(store: RepositoryStore, model: string, release: ReleaseManifest, progress?: Progress): Promise<void> {
  const versions = await publishedVersions(store, model);
  for (const v of [release.stable, ...(release.canary ? [release.canary.version] : [])]) {
    if (!versions.includes(v)) throw new Error(`${model} version ${v} is not published in ${store.location} (published: ${versions.join(', ') || 'none'})`);
  }
  // Round-trip through the parser: what is written is what every instance will accept.
  const text = formatReleaseManifest(release);
  parseReleaseManifest(text, RELEASE_MANIFEST);
  await store.put(`${model}/${RELEASE_MANIFEST}`, Buffer.from(text));
  await progress?.({ step: 'release', key: `${model}/${RELEASE_MANIFEST}` });
}

/** Reads a version's manifest (undefined when the version is not published). */
export async function readVersionManifest(store: RepositoryStore, model: string, version: number) {
  const body = await store.get(`${model}/${version}/${VERSION_MANIFEST}`);
  return body === undefined ? undefined : parseVersionManifest(body.toString('utf8'), `${store.location}${model}/${version}/${VERSION_MANIFEST}`);
}

export interface InitialReleaseOutcome {
  /** Versions published, as "<model>/<version>". */
  published: string[];
  /** Models left as they are because the repository already holds versions of them (never overwritten). */
  kept: string[];
}

/**
 * Publishes a local model repository as the initial release of a (remote) repository: every model
 * of `dir` that has no published version there yet — its versions in ascending order (config.json
 * with the first, then the release.json if the local model has one). A model the repository
 * already holds versions of is left exactly as it is: releases made since (`onnx-fleet models
 * publish`, canaries, rollbacks) are never overwritten, so running this again (`pulumi up`) never
 * rolls models back.
 */
export async function publishInitialRelease(store: RepositoryStore, dir: string, progress?: Progress): Promise<InitialReleaseOutcome> {
  const outcome: InitialReleaseOutcome = { published: [], kept: [] };
  if (!fs.existsSync(dir)) throw new Error(`model repository ${dir} not found`);
  const models = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  if (models.length === 0) throw new Error(`model repository ${dir} holds no models`);
  for (const model of models) {
    const existing = await publishedVersions(store, model);
    if (existing.length > 0) {
      outcome.kept.push(`${model} (versions ${existing.join(', ')} already published)`);
      continue;
    }
    const modelDir = path.join(dir, model);
    const versions = fs.readdirSync(modelDir).filter((v) => /^[1-9]\d*$/.test(v)).map(Number).sort((a, b) => a - b);
    if (versions.length === 0) throw new Error(`${modelDir} has no version directories (expected ${modelDir}/<version>/model.onnx)`);
    const config = path.join(modelDir, 'config.json');
    for (const [i, version] of versions.entries()) {
      await publishVersion(store, { model, version, source: path.join(modelDir, String(version)), config: i === 0 && fs.existsSync(config) ? config : undefined, progress });
      outcome.published.push(`${model}/${version}`);
    }
    const release = path.join(modelDir, RELEASE_MANIFEST);
    if (fs.existsSync(release)) await writeRelease(store, model, parseReleaseManifest(fs.readFileSync(release, 'utf8'), release), progress);
  }
  return outcome;
}
