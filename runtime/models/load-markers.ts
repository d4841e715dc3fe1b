/**
 * Release gating: "a release becomes the one new instances start from only after it loaded
 * somewhere without error". A runtime whose load of a published version succeeded (every worker,
 * warmup included) writes `<model>/loaded/<version>.json` into the remote repository — the
 * version, the SHA-256 of the manifest it loaded, who and when. A version with such a marker (for
 * its current manifest) is *proven*.
 *
 * A runtime starting in poll mode against a remote repository starts each model from a proven
 * version: the release's stable one if it is proven; otherwise the newest proven version older than
 * it (and no canary), then loads the release itself beside it at its first poll, make-before-break
 * like any other change. So an unproven release — one that may not load, or not fit, or crash a
 * process — reaches a new instance only once a running one has loaded it; a broken one never does.
 * With nothing proven yet (a new store) the release is what starts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where markers live, per model, in the repository (and in the cache, mirrored). */
export const LOADED_DIR = 'loaded';
/** The cache's local mirror of a model's markers (a dot name: scans skip it). */
export const CACHED_LOADED_DIR = '.loaded';
/** Written into each cached version by the repository cache: the digest of the manifest it came from. */
export const CACHED_FROM = '.manifest-sha256';

export interface LoadMarker {
  version: number;
  /** SHA-256 of the version's manifest.json as loaded. */
  manifest_sha256: string;
  loaded_by: string;
  at: string;
}

export const markerKey = (model: string, version: number): string => `${model}/${LOADED_DIR}/${version}.json`;
export const MARKER_KEY = /^([^/]+)\/loaded\/([1-9]\d*)\.json$/;

export function formatMarker(version: number, manifestSha256: string, now = new Date()): string {
  const marker: LoadMarker = { version, manifest_sha256: manifestSha256, loaded_by: `${os.hostname()}:${process.pid}`, at: now.toISOString() };
  return JSON.stringify(marker) + '\n';
}

export function parseMarker(text: string): LoadMarker | undefined {
  try {
    const m = JSON.parse(text) as Partial<LoadMarker>;
    return typeof m.version === 'number' && typeof m.manifest_sha256 === 'string' && /^[0-9a-f]{64}$/.test(m.manifest_sha256) ? (m as LoadMarker) : undefined;
  } catch {
    return undefined;
  }
}

/** The manifest digest a cached version was downloaded from (undefined: not from a remote repository). */
export function cachedManifestSha(versionDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(versionDir, CACHED_FROM), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Versions of a cached model that are proven: a mirrored marker for the manifest on disk. */
export function provenVersions(modelDir: string): Map<number, LoadMarker> {
  const out = new Map<number, LoadMarker>();
  let files: string[];
  try {
    files = fs.readdirSync(path.join(modelDir, CACHED_LOADED_DIR));
  } catch {
    return out;
  }
  for (const f of files) {
    const m = /^([1-9]\d*)\.json$/.exec(f);
    if (!m) continue;
    const marker = parseMarker(fs.readFileSync(path.join(modelDir, CACHED_LOADED_DIR, f), 'utf8'));
    const version = Number(m[1]);
    if (marker && marker.version === version && marker.manifest_sha256 === cachedManifestSha(path.join(modelDir, m[1]))) out.set(version, marker);
  }
  return out;
}
