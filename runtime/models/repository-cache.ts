/**
 * Mirrors a remote model repository (an S3 location) into a local directory that the runtime
 * reads like any local repository. Only versions with a manifest exist; each is downloaded into
 * a staging directory, every file checked against the manifest's SHA-256 and size, and renamed
 * into place whole, so the local copy never holds half a version. A version whose files do not
 * match its manifest (an upload in progress, or a broken one) is left out and reported, and the
 * copy already in the cache, if any, stays.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { CACHED_FROM, CACHED_LOADED_DIR, MARKER_KEY } from './load-markers';
import { RELEASE_MANIFEST } from './release-manifest';
import type { RepositoryStore, StoredObject } from './repository-store';
import { parseVersionManifest, sha256, VERSION_MANIFEST } from './version-manifest';

const MODEL_FILES = ['config.json', RELEASE_MANIFEST];

export interface SyncResult {
  /** Versions downloaded (or replaced) by this sync, as "<model>/<version>". */
  downloaded: string[];
  /** Versions removed from the cache because their manifest is gone. */
  removed: string[];
  /** Versions in the repository that could not be mirrored, with why. */
  problems: Map<string, string>;
}

export class RepositoryCache {
  constructor(
    private readonly store: RepositoryStore,
    readonly dir: string,
    private readonly logger: Logger,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** One pass: brings the cache to what the repository holds now. Throws only when the repository cannot be listed. */
  async sync(): Promise<SyncResult> {
    const result: SyncResult = { downloaded: [], removed: [], problems: new Map() };
    const objects = await this.store.list();
    const byModel = new Map<string, StoredObject[]>();
    for (const o of objects) {
      const [model] = o.key.split('/', 1);
      if (!o.key.includes('/') || model.startsWith('.')) continue;
      (byModel.get(model) ?? byModel.set(model, []).get(model)!).push(o);
    }
    for (const [model, list] of byModel) await this.syncModel(model, list, result);
    // Models gone from the repository leave the cache.
    for (const d of fs.readdirSync(this.dir, { withFileTypes: true })) {
      if (d.isDirectory() && !d.name.startsWith('.') && !byModel.has(d.name)) {
        fs.rmSync(path.join(this.dir, d.name), { recursive: true, force: true });
        result.removed.push(d.name);
      }
    }
    return result;
  }

  private async syncModel(model: string, objects: StoredObject[], result: SyncResult): Promise<void> {
    const modelDir = path.join(this.dir, model);
    fs.mkdirSync(modelDir, { recursive: true });
    for (const name of MODEL_FILES) {
      const remote = objects.find((o) => o.key === `${model}/${name}`);
      const local = path.join(modelDir, name);
      if (!remote) {
        fs.rmSync(local, { force: true });
        continue;
      }
      const body = await this.store.get(remote.key);
      if (body === undefined) continue; // deleted between list and get: next pass
      if (fs.existsSync(local) && fs.readFileSync(local).equals(body)) continue;
      writeAtomically(local, body);
    }
    await this.syncMarkers(model, objects);
    const published = new Set<string>();
    for (const o of objects) {
      const m = /^[^/]+\/([1-9]\d*)\/manifest\.json$/.exec(o.key);
      if (m) published.add(m[1]);
    }
    for (const version of published) {
      try {
        if (await this.syncVersion(model, version)) result.downloaded.push(`${model}/${version}`);
      } catch (err) {
        const reason = (err as Error).message;
        result.problems.set(`${model}/${version}`, reason);
        this.logger.warn({ model, version: Number(version), reason, repository: this.store.location }, 'published version not mirrored; the cached copy (if any) stays');
      }
    }
    for (const d of fs.readdirSync(modelDir, { withFileTypes: true })) {
      if (d.isDirectory() && /^[1-9]\d*$/.test(d.name) && !published.has(d.name)) {
        fs.rmSync(path.join(modelDir, d.name), { recursive: true, force: true });
        result.removed.push(`${model}/${d.name}`);
      }
    }
  }

  /** Mirrors the model's load markers (load-markers.ts) into `<model>/.loaded`: what a starting runtime may start from. */
  private async syncMarkers(model: string, objects: StoredObject[]): Promise<void> {
    const dir = path.join(this.dir, model, CACHED_LOADED_DIR);
    const remote = new Map<string, StoredObject>();
    for (const o of objects) {
      const m = MARKER_KEY.exec(o.key);
      if (m && m[1] === model) remote.set(m[2], o);
    }
    if (remote.size === 0 && !fs.existsSync(dir)) return;
    fs.mkdirSync(dir, { recursive: true });
    for (const [version, o] of remote) {
      const tagFile = path.join(dir, `${version}.tag`);
      if (fs.existsSync(tagFile) && fs.readFileSync(tagFile, 'utf8') === o.tag) continue;
      const body = await this.store.get(o.key);
      if (body === undefined) continue;
      writeAtomically(path.join(dir, `${version}.json`), body);
      fs.writeFileSync(tagFile, o.tag);
    }
    for (const f of fs.readdirSync(dir)) {
      const m = /^([1-9]\d*)\.(json|tag)$/.exec(f);
      if (m && !remote.has(m[1])) fs.rmSync(path.join(dir, f), { force: true });
    }
  }

  /** Downloads one version if its manifest changed; true when the cache changed. */
  private async syncVersion(model: string, version: string): Promise<boolean> {
    const where = `${this.store.location}${model}/${version}/${VERSION_MANIFEST}`;
    const raw = await this.store.get(`${model}/${version}/${VERSION_MANIFEST}`);
    if (raw === undefined) throw new Error(`${where} disappeared while reading`);
    const digest = sha256(raw);
    const target = path.join(this.dir, model, version);
    const cachedFrom = path.join(target, CACHED_FROM);
    if (fs.existsSync(cachedFrom) && fs.readFileSync(cachedFrom, 'utf8') === digest) return false;
    const manifest = parseVersionManifest(raw.toString('utf8'), where);
    const staging = path.join(this.dir, '.staging', `${model}-${version}-${randomBytes(4).toString('hex')}`);
    try {
      for (const [rel, expected] of Object.entries(manifest.files)) {
        const body = await this.store.get(`${model}/${version}/${rel}`);
        if (body === undefined) throw new Error(`${rel} is listed in ${where} but not in the repository`);
        if (body.length !== expected.bytes || sha256(body) !== expected.sha256) {
          throw new Error(`${rel} does not match ${where} (got ${body.length} bytes, sha256 ${sha256(body).slice(0, 12)}…; expected ${expected.bytes} bytes, ${expected.sha256.slice(0, 12)}…)`);
        }
        const file = path.join(staging, ...rel.split('/'));
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, body);
      }
      fs.writeFileSync(path.join(staging, VERSION_MANIFEST), raw);
      fs.writeFileSync(path.join(staging, CACHED_FROM), digest);
      // Swap in whole: the old copy moves aside first (sessions already loaded from it hold their own copy of the model).
      const aside = `${staging}.old`;
      if (fs.existsSync(target)) fs.renameSync(target, aside);
      fs.renameSync(staging, target);
      fs.rmSync(aside, { recursive: true, force: true });
      return true;
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
}

function writeAtomically(file: string, body: Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}
