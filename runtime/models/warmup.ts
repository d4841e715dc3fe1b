/**
 * Warmup inputs for a model version.
 *
 * Automatic warmup (the default) builds candidate feeds that real models accept, from the
 * declared inputs alone: a symbolic dimension shared between inputs gets one value everywhere
 * (`batch` in the audio input and in the recurrent state), batch-like dimensions are 1, other
 * dynamic dimensions get realistic sizes (1,024 audio samples, 64-pixel images, 16 tokens)
 * rather than 1, an INT64 scalar named like a sample rate gets 16000, masks are ones. The
 * manager tries the candidates in order on one worker and keeps the first that runs.
 *
 * Explicit warmup (`warmup` in config.json) gives shapes, or sample data files in
 * `<model>/warmup/` (Triton's `model_warmup` with `input_data_file`); inputs it does not name
 * are filled as the first automatic candidate would, with the dimensions it fixes shared.
 */
import fs from 'node:fs';
import path from 'node:path';
import { allocate, elementCount, elementSize, formatShape } from '../protocol/datatypes';
import type { Datatype, ModelSignature, TensorData } from '../protocol/types';
import type { WireTensor, WireValueMetadata } from '../workers/messages';
import type { WarmupConfig } from './model-config';
import { ortTypeOf } from './ort-types';

/** At most this many automatic candidates are tried per version. */
export const MAX_AUTOMATIC_CANDIDATES = 12;
/** A candidate larger than this (elements over all inputs) is skipped: warmup must stay cheap. */
const MAX_CANDIDATE_ELEMENTS = 1 << 24;

const INTEGER: ReadonlySet<Datatype> = new Set(['BOOL', 'UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'UINT64', 'INT64']);

/** Sizes tried in turn for a non-batch dynamic dimension, by the kind of input it first appears in. */
const SIZES = {
  /** token ids, indices, lengths: short sequences first (position tables are often 512 long). */
  integer: [16, 64, 128, 8, 32, 4, 2, 1],
  /** [batch, samples] or [batch, features]: audio chunks (Pad/Conv front ends need hundreds of samples). */
  signal: [1024, 512, 1280, 1536, 256, 64, 16, 4, 2, 1],
  /**
   * images and feature maps [batch, channels, height, width]: small but past any kernel and stride,
   * multiples of 32 first (a text detector's feature pyramid adds maps of stride up to 32 back
   * together: PP-OCR's DB detector runs at 64 and 32, fails at 16 and 8).
   */
  spatial: [64, 32, 128, 16, 224, 96, 8, 4, 2, 1],
};

const BATCH_NAME = /batch|^(n|b|bs|N|B)$/i;
const RATE_NAME = /(^|[^a-z])(sr|fs|rate|sample_?rate|sampling_?rate)([^a-z]|$)/i;
const MASK_NAME = /mask/i;

/** One dimension of one input as the model declares it. */
type Dim = { fixed: number } | { variable: string; axis: number };

interface InputPlan {
  name: string;
  datatype: Datatype;
  dims: Dim[];
  /** The input has at least one fixed dimension (e.g. recurrent state [2, ?, 128]). */
  hasFixed: boolean;
}

function planInputs(meta: readonly WireValueMetadata[], signature: ModelSignature): InputPlan[] {
  return signature.inputs.map((spec, i) => {
    const declared = meta.find((m) => m.name === spec.name)?.shape ?? spec.shape;
    const dims: Dim[] = declared.map((d, axis) => {
      if (typeof d === 'number' && d >= 0) return { fixed: d };
      // Unnamed dynamic dimensions (-1, '') are their own variable; named ones are shared by name.
      return { variable: typeof d === 'string' && d !== '' ? `name:${d}` : `anon:${i}:${axis}`, axis };
    });
    return { name: spec.name, datatype: spec.datatype, dims, hasFixed: dims.some((d) => 'fixed' in d) };
  });
}

interface VariableInfo {
  batch: boolean;
  sizes: readonly number[];
}

function variables(plans: InputPlan[], family: 'sizes' | 'state-batch'): Map<string, VariableInfo> {
  const out = new Map<string, VariableInfo>();
  for (const p of plans) {
    const rank = p.dims.length;
    const sizes = INTEGER.has(p.datatype) ? SIZES.integer : rank <= 2 ? SIZES.signal : SIZES.spatial;
    for (const d of p.dims) {
      if (!('variable' in d)) continue;
      const name = d.variable.startsWith('name:') ? d.variable.slice(5) : '';
      // An unnamed dynamic dimension of an input that also has fixed ones is, in the second
      // family of candidates, taken as its batch dimension (the [2, ?, 128] state of a recurrent model).
      const batch = d.axis === 0 || BATCH_NAME.test(name) || (family === 'state-batch' && name === '' && p.hasFixed);
      const known = out.get(d.variable);
      if (known) known.batch ||= batch;
      else out.set(d.variable, { batch, sizes });
    }
  }
  return out;
}

/** Values of an input that is not an ordinary zero tensor: sample rates and masks. */
function fill(plan: InputPlan, count: number): TensorData {
  const data = allocate(plan.datatype, count);
  if (!INTEGER.has(plan.datatype)) return data;
  const value = count === 1 && RATE_NAME.test(plan.name) ? 16000 : MASK_NAME.test(plan.name) || count === 1 ? 1 : 0;
  if (value === 0) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) data.fill(BigInt(value));
  else if (!Array.isArray(data)) (data as Int32Array).fill(plan.datatype === 'BOOL' ? 1 : value);
  return data;
}

function feeds(plans: InputPlan[], values: (variable: string) => number, given: Map<string, WireTensor>): WireTensor[] | undefined {
  let total = 0;
  const out: WireTensor[] = [];
  for (const p of plans) {
    const fixed = given.get(p.name);
    if (fixed) {
      out.push(fixed);
      continue;
    }
    const dims = p.dims.map((d) => ('fixed' in d ? d.fixed : values(d.variable)));
    const count = dims.reduce((a, b) => a * b, 1);
    total += count;
    if (total > MAX_CANDIDATE_ELEMENTS) return undefined;
    out.push({ name: p.name, type: ortTypeOf(p.datatype), dims, data: fill(p, count) });
  }
  return out;
}

const key = (f: WireTensor[]) => f.map((t) => `${t.name}${formatShape(t.dims)}`).join(' ');

/**
 * Automatic warmup candidates, most realistic first, at most MAX_AUTOMATIC_CANDIDATES.
 * `bound` fixes variables (from explicit warmup shapes); `given` supplies whole inputs.
 */
export function automaticCandidates(meta: readonly WireValueMetadata[], signature: ModelSignature, bound = new Map<string, number>(), given = new Map<string, WireTensor>()): WireTensor[][] {
  const plans = planInputs(meta, signature);
  const families = [variables(plans, 'sizes'), variables(plans, 'state-batch')];
  const longest = Math.max(SIZES.integer.length, SIZES.signal.length, SIZES.spatial.length);
  const seen = new Set<string>();
  const out: WireTensor[][] = [];
  for (let k = 0; k < longest && out.length < MAX_AUTOMATIC_CANDIDATES; k++) {
    for (const vars of families) {
      const value = (v: string) => {
        const b = bound.get(v);
        if (b !== undefined) return b;
        const info = vars.get(v)!;
        return info.batch ? 1 : info.sizes[Math.min(k, info.sizes.length - 1)];
      };
      const f = feeds(plans, value, given);
      if (!f || seen.has(key(f))) continue;
      seen.add(key(f));
      out.push(f);
      if (out.length >= MAX_AUTOMATIC_CANDIDATES) break;
    }
  }
  return out;
}

export class WarmupConfigError extends Error {}

/** Reads `input_data_file` (raw little-endian elements, row-major; BYTES as 4-byte length + bytes, as Triton). */
function readDataFile(file: string, datatype: Datatype, dims: number[], input: string): TensorData {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new WarmupConfigError(`warmup.inputs.${input}.input_data_file: cannot read ${file}: ${(err as Error).message}`);
  }
  const count = elementCount(input, dims);
  if (datatype === 'BYTES') {
    const out: string[] = [];
    let at = 0;
    while (at + 4 <= bytes.length && out.length < count) {
      const n = bytes.readUInt32LE(at);
      out.push(bytes.subarray(at + 4, at + 4 + n).toString('utf8'));
      at += 4 + n;
    }
    if (out.length !== count || at !== bytes.length) throw new WarmupConfigError(`warmup.inputs.${input}.input_data_file: ${file} does not hold exactly ${count} length-prefixed strings for shape ${formatShape(dims)}`);
    return out;
  }
  const expected = count * elementSize(datatype);
  if (bytes.length !== expected) {
    throw new WarmupConfigError(`warmup.inputs.${input}.input_data_file: ${file} has ${bytes.length} bytes; shape ${formatShape(dims)} of ${datatype} needs ${expected}`);
  }
  const data = allocate(datatype, count) as Exclude<TensorData, string[]>;
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
  return data;
}

/**
 * The feeds of an explicit warmup. Throws WarmupConfigError when the configuration does not fit
 * the model (unknown input, wrong rank or fixed dimension, unreadable or mis-sized data file).
 */
export function explicitFeeds(config: WarmupConfig, meta: readonly WireValueMetadata[], signature: ModelSignature, modelDir: string): WireTensor[] {
  const plans = planInputs(meta, signature);
  const bound = new Map<string, number>();
  const given = new Map<string, WireTensor>();
  for (const [name, input] of Object.entries(config.inputs)) {
    const plan = plans.find((p) => p.name === name);
    if (!plan) throw new WarmupConfigError(`warmup names input '${name}', which the model does not have; its inputs are ${plans.map((p) => `'${p.name}'`).join(', ')}`);
    if (input.dataType !== undefined) {
      const written = input.dataType.replace(/^TYPE_/, '');
      if ((written === 'STRING' ? 'BYTES' : written) !== plan.datatype) throw new WarmupConfigError(`warmup data_type of '${name}' is ${input.dataType}; the model's input is ${plan.datatype}`);
    }
    if (input.dims.length !== plan.dims.length) throw new WarmupConfigError(`warmup shape of '${name}' ${formatShape(input.dims)} has rank ${input.dims.length}; the model's input has rank ${plan.dims.length}`);
    plan.dims.forEach((d, i) => {
      if ('fixed' in d && d.fixed !== input.dims[i]) throw new WarmupConfigError(`warmup shape of '${name}' ${formatShape(input.dims)}: dimension ${i} must be ${d.fixed}`);
      if ('variable' in d) bound.set(d.variable, input.dims[i]);
    });
    const data = input.dataFile
      ? readDataFile(path.resolve(modelDir, 'warmup', input.dataFile), plan.datatype, input.dims, name)
      : fill(plan, elementCount(name, input.dims));
    given.set(name, { name, type: ortTypeOf(plan.datatype), dims: input.dims, data });
  }
  const [first] = automaticCandidates(meta, signature, bound, given);
  if (!first) throw new WarmupConfigError('warmup inputs are too large (more than 2^24 elements)');
  return first;
}
