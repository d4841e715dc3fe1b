/**
 * The model store's initial release: the stack's local model repository (`modelRepository`),
 * published into the store by `onnx-fleet models`' own publishing code (runtime/models/publish.ts:
 * files, then each version's manifest) the first time `pulumi up` finds the store without it.
 *
 * Create-only by design. Pulumi owns the bucket, never the releases in it: a model the store
 * already holds versions of is never written again, so a later `pulumi up` (with an older local
 * repository, or after `onnx-fleet models publish`/`promote`/`rollback`) cannot roll a model back.
 * A changed local repository only publishes models the store has never seen; deleting the resource
 * deletes nothing. Backed by a Pulumi dynamic provider (runs where `pulumi up` runs, with its AWS
 * credentials); the tests run its serialized form against s3rver.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { publishInitialRelease } from '../../runtime/models/publish';
import { parseRepositoryLocation } from '../../runtime/models/repository-location';
import { openStore } from '../../runtime/models/repository-store';
import { listFiles, sha256 } from '../../runtime/models/version-manifest';

export interface ModelStoreSeedArgs {
  /** The store: `s3://bucket/prefix?region=…` (any S3-compatible `?endpoint=` too). */
  location: pulumi.Input<string>;
  /** Absolute path of the local model repository to publish. */
  repository: string;
  /** Written only once these exist (the bucket's encryption, policy and versioning). */
  after?: pulumi.Resource[];
}

interface SeedInputs {
  location: string;
  repository: string;
  /** Digest of every file of the local repository: a change is a (non-destructive) update. */
  digest: string;
}

interface SeedOutputs extends SeedInputs {
  published: string[];
  kept: string[];
}

/** SHA-256 over the repository's relative paths and contents (dot files skipped). */
export function repositoryDigest(dir: string): string {
  if (!fs.existsSync(dir)) throw new Error(`model repository ${dir} not found (set onnx-fleet:modelRepository)`);
  const lines = listFiles(dir)
    .filter((rel) => !rel.split('/').some((p) => p.startsWith('.')))
    .map((rel) => `${rel}\0${sha256(fs.readFileSync(path.join(dir, ...rel.split('/'))))}`);
  if (lines.length === 0) throw new Error(`model repository ${dir} is empty`);
  return sha256(lines.join('\n'));
}

/** Runs in the dynamic provider host (or a test): publishes what the store does not hold yet. */
async function seed(inputs: SeedInputs): Promise<SeedOutputs> {
  const store = openStore(parseRepositoryLocation(inputs.location, process.env));
  try {
    const outcome = await publishInitialRelease(store, inputs.repository, (e) => {
      if (e.step === 'manifest') process.stderr.write(`model store: published ${e.key}\n`);
    });
    for (const k of outcome.kept) process.stderr.write(`model store: kept ${k}; publish new versions with onnx-fleet models publish\n`);
    return { ...inputs, ...outcome };
  } finally {
    store.close();
  }
}

/** Exported for the tests, which run its serialized form as the engine would. */
export const modelStoreSeedProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: SeedInputs, news: SeedInputs) {
    return { inputs: news };
  },
  async diff(_id: string, olds: SeedInputs, news: SeedInputs) {
    // Another store is another initial release; a changed local repository may add new models. The
    // repository's path alone (another checkout of the same files) is no change: the digest says what it holds.
    const replaces = olds.location !== news.location ? ['location'] : [];
    return { changes: replaces.length > 0 || olds.digest !== news.digest, replaces, deleteBeforeReplace: false };
  },
  async create(inputs: SeedInputs) {
    return { id: inputs.location, outs: await seed(inputs) };
  },
  async update(_id: string, _olds: SeedOutputs, news: SeedInputs) {
    return { outs: await seed(news) };
  },
  async delete() {
    // The releases stay: the store (and whoever published since) owns them, not this stack step.
  },
};

class InitialReleaseResource extends pulumi.dynamic.Resource {
  declare readonly published: pulumi.Output<string[]>;
  declare readonly kept: pulumi.Output<string[]>;
  constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(modelStoreSeedProvider, name, { ...props, published: undefined, kept: undefined }, opts, 'models', 'InitialRelease');
  }
}

export class ModelStoreSeed extends pulumi.ComponentResource {
  readonly release: InitialReleaseResource;

  constructor(name: string, args: ModelStoreSeedArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:ModelStoreSeed', name, {}, opts);
    this.release = new InitialReleaseResource(name, { location: args.location, repository: args.repository, digest: repositoryDigest(args.repository) }, { parent: this, dependsOn: args.after });
    this.registerOutputs({ published: this.release.published, kept: this.release.kept });
  }
}
