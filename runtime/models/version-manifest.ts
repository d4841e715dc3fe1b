/**
 * A published model version's manifest, `<model>/<version>/manifest.json`: the SHA-256 and size
 * of every file of the version. Publication writes it last, and a repository reader treats a
 * version without one as not there, so a version appears whole or not at all (S3 ETags are not
 * checksums for multipart uploads, hence our own digests).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const VERSION_MANIFEST = 'manifest.json';
export const MANIFEST_FORMAT = 'onnx-fleet.model-version/1';

export interface VersionManifest {
  format: typeof MANIFEST_FORMAT;
  model: string;
  version: number;
  /** Relative paths inside the version directory ('/'-separated) → digest and size. */
  files: Record<string, { sha256: string; bytes: number }>;
  publishedAt: string;
}

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

const SAFE_PATH = /^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._/-]+$/;

/** Parses and checks a manifest; `where` names it in errors. */
export function parseVersionManifest(text: string, where: string): VersionManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not JSON (${(err as Error).message})`);
  }
  const m = json as Partial<VersionManifest>;
  if (typeof m !== 'object' || m === null || m.format !== MANIFEST_FORMAT) throw new Error(`${where}: expected "format": "${MANIFEST_FORMAT}"`);
  if (typeof m.files !== 'object' || m.files === null || Object.keys(m.files).length === 0) throw new Error(`${where}: "files" must list at least one file`);
  for (const [file, entry] of Object.entries(m.files)) {
    if (!SAFE_PATH.test(file) || file.startsWith('/')) throw new Error(`${where}: file name ${JSON.stringify(file)} is not a relative path inside the version`);
    if (!entry || typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256) || !Number.isSafeInteger(entry.bytes)) {
      throw new Error(`${where}: file ${JSON.stringify(file)} needs "sha256" (64 hex digits) and "bytes"`);
    }
  }
  return m as VersionManifest;
}

/** Every regular file under `dir`, as '/'-separated relative paths, sorted. */
export function listFiles(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...listFiles(dir, rel));
    else if (d.isFile()) out.push(rel);
  }
  return out.sort();
}

/** The manifest of a version directory on disk (its own manifest.json excluded). */
export function manifestOf(dir: string, model: string, version: number, now = new Date()): VersionManifest {
  const files: VersionManifest['files'] = {};
  for (const rel of listFiles(dir)) {
    if (rel === VERSION_MANIFEST) continue;
    const data = fs.readFileSync(path.join(dir, ...rel.split('/')));
    files[rel] = { sha256: sha256(data), bytes: data.length };
  }
  if (Object.keys(files).length === 0) throw new Error(`${dir} holds no files to publish`);
  return { format: MANIFEST_FORMAT, model, version, files, publishedAt: now.toISOString() };
}
