/**
 * `onnx-fleet models`: model releases in a repository (a directory or s3://…), which every
 * runtime in poll mode follows.
 *   publish  <version dir> --model m [--version N] [--config config.json] [--wait-loaded secs]
 *            files, then the manifest; --wait-loaded: until a runtime has loaded it without error
 *   canary   --model m --version N --weight 10 [--bake-secs 600 --min-requests 100 ...]
 *   promote  --model m            the canary becomes stable
 *   rollback --model m [--to N]   drop the canary, or pin stable to an older version
 *   status   --model m            published versions and the release manifest
 * The repository comes from --model-repository (or ONNX_FLEET_MODEL_REPOSITORY). Exit codes: 0 ok,
 * 1 the repository failed, 2 invalid usage.
 */
import { ENV } from '../contract';
import { LOADED_DIR, MARKER_KEY, markerKey, parseMarker } from './load-markers';
import { publishedVersions, publishVersion, readRelease, writeRelease } from './publish';
import { DEFAULT_CANARY_BOUNDS, ModelCanary, ReleaseManifest } from './release-manifest';
import { parseRepositoryLocation } from './repository-location';
import { openStore, RepositoryStore } from './repository-store';

export const MODELS_USAGE = `Usage:
  onnx-fleet models publish  <version dir> --model <m> [--version N] [--config <config.json>] [--canary <weight %>]
                             [--wait-loaded <secs>: until a runtime loaded it without error, the version new instances then start from]
  onnx-fleet models canary   --model <m> --version N --weight <1-99> [--bake-secs ${DEFAULT_CANARY_BOUNDS.bakeSecs}] [--min-requests ${DEFAULT_CANARY_BOUNDS.minRequests}]
                             [--max-failure-rate-increase ${DEFAULT_CANARY_BOUNDS.maxFailureRateIncrease}] [--max-p99-ratio ${DEFAULT_CANARY_BOUNDS.maxP99Ratio}]
  onnx-fleet models promote  --model <m>
  onnx-fleet models rollback --model <m> [--to N]
  onnx-fleet models status   --model <m>

Every command takes --model-repository <dir | s3://bucket/prefix[?endpoint=…]> [${ENV.modelRepository}].
Credentials for S3 come from the standard AWS chain (instance role, AWS_* variables, profiles).`;

class UsageError extends Error {}

const FLAGS = ['model-repository', 'model', 'version', 'config', 'canary', 'weight', 'bake-secs', 'min-requests', 'max-failure-rate-increase', 'max-p99-ratio', 'to', 'wait-loaded'] as const;
type Flag = (typeof FLAGS)[number];

function parseArgs(argv: readonly string[]): { flags: Map<Flag, string>; positional: string[] } {
  const flags = new Map<Flag, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq) as Flag;
    if (!FLAGS.includes(name)) throw new UsageError(`unknown option --${name}; known options: ${FLAGS.map((f) => `--${f}`).join(', ')}`);
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name}: missing value`);
    flags.set(name, value);
  }
  return { flags, positional };
}

function num(flags: Map<Flag, string>, name: Flag, ok: (n: number) => boolean, expected: string): number | undefined {
  const raw = flags.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name}: got ${JSON.stringify(raw)}, expected ${expected}`);
  return n;
}

const isVersion = (n: number) => Number.isSafeInteger(n) && n >= 1;

function canaryFrom(flags: Map<Flag, string>, version: number, weight: number): ModelCanary {
  const d = DEFAULT_CANARY_BOUNDS;
  return {
    version,
    weightPercent: weight,
    bakeSecs: num(flags, 'bake-secs', (n) => Number.isSafeInteger(n) && n >= 1, 'whole seconds ≥ 1') ?? d.bakeSecs,
    minRequests: num(flags, 'min-requests', (n) => Number.isSafeInteger(n) && n >= 1, 'an integer ≥ 1') ?? d.minRequests,
    maxFailureRateIncrease: num(flags, 'max-failure-rate-increase', (n) => n >= 0 && n <= 1, 'a fraction from 0 to 1') ?? d.maxFailureRateIncrease,
    maxP99Ratio: num(flags, 'max-p99-ratio', (n) => n >= 1, 'a ratio ≥ 1') ?? d.maxP99Ratio,
  };
}

/** The release in force: release.json, or (without one) the newest published version as stable. */
async function currentRelease(store: RepositoryStore, model: string): Promise<ReleaseManifest> {
  const release = await readRelease(store, model);
  if (release) return release;
  const versions = await publishedVersions(store, model);
  if (versions.length === 0) throw new UsageError(`model ${model} has no published version in ${store.location}; publish one first`);
  return { stable: versions[versions.length - 1] };
}

/** Where the command writes (process.stdout/stderr, or a test's sink). */
export interface Output {
  write(chunk: string): unknown;
}

export async function modelsCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help')) {
    out.write(MODELS_USAGE + '\n');
    return sub === undefined ? 2 : 0;
  }
  let store: RepositoryStore | undefined;
  const say = (line: string): void => void out.write(line + '\n');
  try {
    if (!['publish', 'canary', 'promote', 'rollback', 'status'].includes(sub)) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
    const { flags, positional } = parseArgs(rest);
    const repository = flags.get('model-repository') ?? env[ENV.modelRepository];
    if (!repository) throw new UsageError(`--model-repository is required (or set ${ENV.modelRepository})`);
    const model = flags.get('model');
    if (!model) throw new UsageError('--model is required');
    let location;
    try {
      location = parseRepositoryLocation(repository, env);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (sub !== 'publish' && positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
    store = openStore(location);
    const where = store.location;
    switch (sub) {
      case 'publish': {
        if (positional.length !== 1) throw new UsageError('publish takes one version directory (holding model.onnx)');
        const version = num(flags, 'version', isVersion, 'a version number ≥ 1');
        const waitLoaded = num(flags, 'wait-loaded', (n) => Number.isSafeInteger(n) && n >= 1 && n <= 86_400, 'whole seconds from 1 to 86400');
        const canaryWeight = num(flags, 'canary', (n) => n > 0 && n < 100, 'a percentage above 0 and below 100');
        // A canary must not be served at 100 % by the version policy in the meantime: pin stable first.
        const before = canaryWeight !== undefined ? await currentRelease(store, model) : await readRelease(store, model);
        if (canaryWeight !== undefined && before) {
          await writeRelease(store, model, { stable: before.stable });
          say(`pinned ${model} stable version ${before.stable} in ${where}${model}/release.json`);
        }
        const result = await publishVersion(store, {
          model,
          source: positional[0],
          version,
          config: flags.get('config'),
          progress: (e) => say(e.step === 'file' ? `uploaded ${e.key}${e.bytes !== undefined ? ` (${e.bytes} bytes)` : ''}${e.index ? ` [${e.index}/${e.total}]` : ''}` : `wrote ${e.key}: version published`),
        });
        if (canaryWeight !== undefined) {
          await writeRelease(store, model, { stable: before!.stable, canary: canaryFrom(flags, result.version, canaryWeight) });
          say(`${model} version ${result.version} is the canary at ${canaryWeight} % beside stable ${before!.stable}`);
        } else if (before) {
          // A release manifest pins what is served: publishing without --canary makes the new version stable.
          await writeRelease(store, model, { stable: result.version });
          say(`${model} stable version is now ${result.version} (release.json)`);
        }
        say(`published ${model} version ${result.version} to ${where}: ${result.files} files, ${result.bytes} bytes; runtimes polling ${where} load it at their next poll`);
        if (waitLoaded !== undefined) {
          // Release gating (load-markers.ts): the version is what new instances start from once a runtime recorded it.
          const deadline = Date.now() + waitLoaded * 1000;
          for (;;) {
            const body = await store.get(markerKey(model, result.version));
            const marker = body && parseMarker(body.toString('utf8'));
            if (marker) {
              say(`${model} version ${result.version} loaded without error on ${marker.loaded_by} at ${marker.at}: new instances now start from it`);
              return 0;
            }
            if (Date.now() >= deadline) break;
            await new Promise((r) => setTimeout(r, 1000));
          }
          err.write(`onnx-fleet models publish: no runtime loaded ${model} version ${result.version} without error within ${waitLoaded} s; new instances keep starting from the last version that did (POST /v2/repository/index on a runtime says why)\n`);
          return 1;
        }
        return 0;
      }
      case 'canary': {
        const version = num(flags, 'version', isVersion, 'a version number ≥ 1');
        const weight = num(flags, 'weight', (n) => n > 0 && n < 100, 'a percentage above 0 and below 100');
        if (version === undefined || weight === undefined) throw new UsageError('canary needs --version and --weight');
        const current = await currentRelease(store, model);
        const stable = current.stable === version ? (await publishedVersions(store, model)).filter((v) => v < version).pop() : current.stable;
        if (stable === undefined) throw new UsageError(`version ${version} is ${model}'s only version; a canary needs a stable version beside it`);
        await writeRelease(store, model, { stable, canary: canaryFrom(flags, version, weight) });
        say(`${model}: canary version ${version} at ${weight} % beside stable ${stable}; runtimes switch at their next poll`);
        return 0;
      }
      case 'promote': {
        const current = await currentRelease(store, model);
        if (!current.canary) throw new UsageError(`${model} has no canary to promote (stable is ${current.stable})`);
        await writeRelease(store, model, { stable: current.canary.version });
        say(`${model}: promoted version ${current.canary.version} to stable (was ${current.stable}); the old version unloads once drained`);
        return 0;
      }
      case 'rollback': {
        const current = await currentRelease(store, model);
        const to = num(flags, 'to', isVersion, 'a version number ≥ 1');
        if (to === undefined && current.canary) {
          await writeRelease(store, model, { stable: current.stable });
          say(`${model}: canary version ${current.canary.version} rolled back; stable ${current.stable} serves everything`);
          return 0;
        }
        const published = await publishedVersions(store, model);
        const target = to ?? published.filter((v) => v < current.stable).pop();
        if (target === undefined) throw new UsageError(`${model} has no version older than stable ${current.stable} to roll back to`);
        await writeRelease(store, model, { stable: target });
        say(`${model}: stable version rolled back from ${current.stable} to ${target}`);
        return 0;
      }
      case 'status': {
        const versions = await publishedVersions(store, model);
        const release = await readRelease(store, model);
        say(`${model} in ${where}`);
        say(`  published versions: ${versions.join(', ') || 'none'}`);
        if (!release) say(`  release.json: none (the model's version policy decides)`);
        else say(`  stable: ${release.stable}${release.canary ? `; canary: version ${release.canary.version} at ${release.canary.weightPercent} % (bake ${release.canary.bakeSecs} s, min ${release.canary.minRequests} requests, failure rate +${release.canary.maxFailureRateIncrease}, p99 ×${release.canary.maxP99Ratio})` : ''}`);
        // Release gating (load-markers.ts): what runtimes starting in poll mode may start from.
        const proven = (await store.list(`${model}/${LOADED_DIR}/`)).map((o) => MARKER_KEY.exec(o.key)).filter((m) => m !== null).map((m) => Number(m![2])).sort((a, b) => a - b);
        say(`  loaded without error somewhere (new instances start from the newest of these at or below stable): ${proven.join(', ') || 'none yet'}`);
        return 0;
      }
    }
    return 2;
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`onnx-fleet models: ${e.message}\n\n${MODELS_USAGE}\n`);
      return 2;
    }
    err.write(`onnx-fleet models ${sub}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    store?.close();
  }
}
