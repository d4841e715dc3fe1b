/**
 * Reads a Triton-style model repository: `<repo>/<model>/<version>/model.onnx` with numeric
 * versions and an optional `<repo>/<model>/config.json`. Problems with one model are recorded
 * on that model (and served as "not ready" with the reason), never thrown for the whole repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_MODEL_CONFIG, ModelConfig, ModelConfigError, parseModelConfig, selectVersions } from './model-config';

export const MODEL_FILENAME = 'model.onnx';

export interface VersionEntry {
  version: number;
  /** Absolute path of model.onnx (may not exist: that is a load failure reported on the version). */
  file: string;
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
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function scanRepository(root: string): ModelEntry[] {
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw new Error(`model repository ${root} cannot be read: ${(err as Error).message}`);
  }
  const models: ModelEntry[] = [];
  for (const dirent of names.filter((d) => d.isDirectory() && !d.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
    models.push(scanModel(root, dirent.name));
  }
  return models;
}

function scanModel(root: string, name: string): ModelEntry {
  const dir = path.join(root, name);
  const entry: ModelEntry = { name, dir, config: DEFAULT_MODEL_CONFIG, versions: [], fallbacks: [] };
  if (!MODEL_NAME.test(name)) {
    entry.error = `model directory name ${JSON.stringify(name)} is not a valid model name (letters, digits, '_', '.', '-')`;
    return entry;
  }
  const configPath = path.join(dir, 'config.json');
  if (fs.existsSync(configPath)) {
    try {
      entry.config = parseModelConfig(fs.readFileSync(configPath, 'utf8'));
    } catch (err) {
      const reason = err instanceof ModelConfigError ? err.message : String(err);
      entry.error = `${configPath}: ${reason}`;
      return entry;
    }
  }
  const found = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^[1-9]\d*$/.test(d.name))
    .map((d) => Number(d.name));
  const chosen = selectVersions(entry.config.versionPolicy, found);
  if (chosen.length === 0) {
    entry.error =
      found.length === 0
        ? `no version directories in ${dir} (expected ${dir}/<version>/${MODEL_FILENAME} with a numeric version)`
        : `version policy ${JSON.stringify(entry.config.versionPolicy)} selects none of the versions on disk (${found.join(', ')})`;
    return entry;
  }
  const toEntry = (version: number): VersionEntry => ({ version, file: path.join(dir, String(version), MODEL_FILENAME) });
  entry.versions = chosen.map(toEntry);
  if ('latest' in entry.config.versionPolicy) {
    entry.fallbacks = found.filter((v) => !chosen.includes(v)).sort((a, b) => b - a).map(toEntry);
  }
  return entry;
}
