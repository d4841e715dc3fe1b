/**
 * Reads a Triton-style model repository: `<repo>/<model>/<version>/model.onnx` with numeric
 * versions and an optional `<repo>/<model>/config.json`. Problems with one model are recorded
 * on that model (and served as "not ready" with the reason), never thrown for the whole repository.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { provenVersions } from './load-markers';
import { parseReleaseManifest, ReleaseManifest, RELEASE_MANIFEST } from './release-manifest';
import { DEFAULT_MODEL_CONFIG, ModelConfig, ModelConfigError, parseModelConfig, selectVersions } from './model-config';

export const MODEL_FILENAME = 'model.onnx';

export interface VersionEntry {
  version: number;
  /** Absolute path of model.onnx (may not exist: that is a load failure reported on the version). */
  file: string;
  /**
   * Changes whenever the version's files or its model's config.json do (names, sizes, mtimes): a
   * changed version is loaded again, and a version that failed is retried only once it changed.
   */
  digest: string;
  /** Bytes of the version's files (the memory check's starting point). */
  bytes: number;
}

export interface ModelEntry {
  name: string;
  dir: string;
  config: ModelConfig;
  /** Versions chosen by the version policy, newest first. */
  versions: VersionEntry[];
  /**
   * Under a `latest` policy, the older versions on disk, newest first: tried in turn when a chosen
   * version fails to load, so one broken new version never leaves the model without a served one.
   */
  fallbacks: VersionEntry[];
  /** Set when the model as a whole cannot be served (bad config.json, no versions). */
  error?: string;
  /** The release manifest's canary version, when it is on disk. */
  canary?: VersionEntry;
  /** `<model>/release.json`: pins the stable version and declares a canary (release-manifest.ts). */
  release?: ReleaseManifest;
  /** Starting from a proven version (load-markers.ts) instead of the release's, which is not proven yet. */
  startedFrom?: { wanted: number; from: number };
}

export interface ScanOptions {
  /** Start each model from a proven version when its release is not proven yet (a runtime starting in poll mode). */
  startFromProven?: boolean;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function scanRepository(root: string, options: ScanOptions = {}): ModelEntry[] {
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw new Error(`model repository ${root} cannot be read: ${(err as Error).message}`);
  }
  const models: ModelEntry[] = [];
  for (const dirent of names.filter((d) => d.isDirectory() && !d.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
    models.push(scanModel(root, dirent.name, undefined, options));
  }
  return models;
}

/** Stat-based digest of a version directory plus its model's config text. */
function versionDigest(dir: string, configText: string): { digest: string; bytes: number } {
  const h = createHash('sha256').update(configText).update('\0');
  let bytes = 0;
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) {
        const st = fs.statSync(path.join(dir, r));
        bytes += st.size;
        h.update(`${r}\0${st.size}\0${st.mtimeMs}\0${st.ino}\n`);
      }
    }
  };
  walk('');
  return { digest: h.digest('hex').slice(0, 16), bytes };
}

/**
 * Scans one model; `configOverride` (the body of an explicit load) replaces its config.json.
 */
export function scanModel(root: string, name: string, configOverride?: string, options: ScanOptions = {}): ModelEntry {
  const dir = path.join(root, name);
  const entry: ModelEntry = { name, dir, config: DEFAULT_MODEL_CONFIG, versions: [], fallbacks: [] };
  if (!MODEL_NAME.test(name)) {
    entry.error = `model directory name ${JSON.stringify(name)} is not a valid model name (letters, digits, '_', '.', '-')`;
    return entry;
  }
  if (!fs.existsSync(dir)) {
    entry.error = `no model directory ${dir}`;
    return entry;
  }
  const configPath = path.join(dir, 'config.json');
  let configText = '';
  if (configOverride !== undefined || fs.existsSync(configPath)) {
    configText = configOverride ?? fs.readFileSync(configPath, 'utf8');
    try {
      entry.config = parseModelConfig(configText);
    } catch (err) {
      const reason = err instanceof ModelConfigError ? err.message : String(err);
      entry.error = `${configOverride !== undefined ? 'config override' : configPath}: ${reason}`;
      return entry;
    }
  }
  const releasePath = path.join(dir, RELEASE_MANIFEST);
  if (fs.existsSync(releasePath)) {
    try {
      entry.release = parseReleaseManifest(fs.readFileSync(releasePath, 'utf8'), releasePath);
    } catch (err) {
      entry.error = (err as Error).message;
      return entry;
    }
  }
  const found = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^[1-9]\d*$/.test(d.name))
    .map((d) => Number(d.name));
  // A release manifest pins what is served: its stable version (older ones are its fallbacks).
  let chosen = entry.release ? found.filter((v) => v === entry.release!.stable) : selectVersions(entry.config.versionPolicy, found);
  if (options.startFromProven && chosen.length === 1) {
    // Release gating: the newest proven version older than an unproven release (and no canary yet).
    const proven = provenVersions(dir);
    const from = proven.has(chosen[0]) ? undefined : [...proven.keys()].filter((v) => v < chosen[0] && found.includes(v)).sort((a, b) => b - a)[0];
    if (from !== undefined) {
      entry.startedFrom = { wanted: chosen[0], from };
      chosen = [from];
      if (entry.release) entry.release = { stable: from };
    }
  }
  if (chosen.length === 0) {
    entry.error =
      found.length === 0
        ? `no version directories in ${dir} (expected ${dir}/<version>/${MODEL_FILENAME} with a numeric version)`
        : entry.release
          ? `${releasePath} names stable version ${entry.release.stable}, which is not in ${dir} (versions: ${found.join(', ')})`
          : `version policy ${JSON.stringify(entry.config.versionPolicy)} selects none of the versions on disk (${found.join(', ')})`;
    return entry;
  }
  const toEntry = (version: number): VersionEntry => ({ version, file: path.join(dir, String(version), MODEL_FILENAME), ...versionDigest(path.join(dir, String(version)), configText) });
  entry.versions = chosen.map(toEntry);
  if (entry.release) {
    entry.fallbacks = found.filter((v) => v < entry.release!.stable).sort((a, b) => b - a).map(toEntry);
    entry.canary = entry.release.canary && found.includes(entry.release.canary.version) ? toEntry(entry.release.canary.version) : undefined;
  } else if ('latest' in entry.config.versionPolicy) {
    entry.fallbacks = found.filter((v) => !chosen.includes(v) && (entry.startedFrom === undefined || v < entry.startedFrom.from)).sort((a, b) => b - a).map(toEntry);
  }
  return entry;
}
