/**
 * Where the model manager reads its repository from, and poll mode's timer. A local directory is
 * read in place; an S3 repository is mirrored into the cache directory before each scan. The
 * first mirror must succeed unless an earlier run left a copy (then the runtime starts from it and
 * says so); later failures leave everything serving as it was and are counted.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RuntimeMetrics } from '../metrics';
import { CACHED_LOADED_DIR, cachedManifestSha, formatMarker, markerKey, parseMarker } from './load-markers';
import { RepositoryCache } from './repository-cache';
import { describeLocation, parseRepositoryLocation } from './repository-location';
import { openStore, RepositoryStore } from './repository-store';

export interface RepositorySource {
  /** The directory the manager scans. */
  dir: string;
  /** Mirrors a remote repository into `dir` (absent for a local directory). */
  sync?: () => Promise<void>;
  /** Release gating (load-markers.ts): records in the remote repository that a version loaded here without error. */
  reportLoaded?: (model: string, version: number) => Promise<void>;
  close(): void;
}

export function openRepositorySource(repository: string, cacheDir: string, logger: Logger, metrics: RuntimeMetrics): RepositorySource {
  const location = parseRepositoryLocation(repository);
  if (location.kind === 'dir') return { dir: location.dir, close() {} };
  const store: RepositoryStore = openStore(location);
  // One cache per location, so two runtimes (or two repositories) never share a copy.
  const dir = path.join(cacheDir, createHash('sha256').update(describeLocation(location)).digest('hex').slice(0, 16));
  const cache = new RepositoryCache(store, dir, logger);
  let first = true;
  /** Markers this process wrote (key → manifest digest), so a version is reported once. */
  const reported = new Map<string, string>();
  const warned = new Set<string>();
  return {
    dir,
    async reportLoaded(model, version) {
      const sha = cachedManifestSha(path.join(dir, model, String(version)));
      if (sha === undefined) return; // not a version of the remote repository
      const key = markerKey(model, version);
      if (reported.get(key) === sha) return;
      const mirrored = path.join(dir, model, CACHED_LOADED_DIR, `${version}.json`);
      if (fs.existsSync(mirrored) && parseMarker(fs.readFileSync(mirrored, 'utf8'))?.manifest_sha256 === sha) {
        reported.set(key, sha);
        return;
      }
      try {
        await store.put(key, Buffer.from(formatMarker(version, sha)));
        reported.set(key, sha);
        metrics.loadReports.inc({ result: 'ok' });
        logger.info({ model, version, repository: store.location }, 'version loaded without error: recorded, new instances may start from it');
      } catch (err) {
        metrics.loadReports.inc({ result: 'failed' });
        if (!warned.has(key)) logger.warn({ model, version, repository: store.location, err: (err as Error).message }, 'could not record that the version loaded (release gating: new instances keep starting from the last proven version); serving is unaffected');
        warned.add(key);
      }
    },
    async sync() {
      try {
        const result = await cache.sync();
        metrics.repositoryPolls.inc({ result: 'ok' });
        if (result.downloaded.length || result.removed.length) logger.info({ repository: store.location, downloaded: result.downloaded, removed: result.removed }, 'model repository mirrored');
      } catch (err) {
        metrics.repositoryPolls.inc({ result: 'failed' });
        const hasCopy = fs.readdirSync(dir).some((d) => !d.startsWith('.'));
        if (first && !hasCopy) throw new Error(`model repository ${store.location} cannot be read: ${(err as Error).message}`);
        logger.warn({ repository: store.location, err: (err as Error).message }, first ? 'model repository cannot be read; starting from the local copy of an earlier run' : 'model repository cannot be read; nothing changed, retrying at the next poll');
      } finally {
        first = false;
      }
    },
    close: () => store.close(),
  };
}

/** Poll mode: a refresh every `secs`, never two at once. */
export function startPolling(refresh: () => Promise<void>, secs: number, logger: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    refresh()
      .catch((err) => logger.error({ err }, 'model repository poll failed'))
      .finally(() => (running = false));
  }, secs * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
