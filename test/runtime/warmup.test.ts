/**
 * Automatic and explicit warmup inputs (runtime/models/warmup.ts), from declared signatures shaped
 * like the real models of the zoo: shared symbolic dimensions, unnamed ones, sample-rate scalars.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseModelConfig } from '../../runtime/models/model-config';
import { signatureFromMetadata } from '../../runtime/models/ort-types';
import { automaticCandidates, explicitFeeds, MAX_AUTOMATIC_CANDIDATES } from '../../runtime/models/warmup';
import type { WireTensor, WireValueMetadata } from '../../runtime/workers/messages';

const t = (name: string, type: string, shape: Array<number | string>): WireValueMetadata => ({ name, isTensor: true, type, shape });
const out = [t('y', 'float32', ['batch', 1])];
const shapes = (feeds: WireTensor[]) => Object.fromEntries(feeds.map((f) => [f.name, f.dims]));
const candidates = (inputs: WireValueMetadata[]) => automaticCandidates(inputs, signatureFromMetadata(inputs, out));

describe('automatic warmup candidates', () => {
  test('a shared symbolic batch gets one value in every input; the sample axis a realistic size; a sample rate 16000', () => {
    // The voice-activity model of the issue: input [batch, sequence], sr INT64 scalar, h/c [2, batch, 64].
    const [first] = candidates([t('input', 'float32', ['batch', 'sequence']), t('sr', 'int64', []), t('h', 'float32', [2, 'batch', 64]), t('c', 'float32', [2, 'batch', 64])]);
    expect(shapes(first)).toEqual({ input: [1, 1024], sr: [], h: [2, 1, 64], c: [2, 1, 64] });
    expect(Array.from(first.find((f) => f.name === 'sr')!.data as BigInt64Array)).toEqual([16000n]);
    expect(first.find((f) => f.name === 'input')!.data).toBeInstanceOf(Float32Array);
  });

  test('a mel front end [batch_size, samples] starts at 1,024 samples, never at 1', () => {
    const all = candidates([t('input', 'float32', ['batch_size', 'samples'])]);
    expect(shapes(all[0])).toEqual({ input: [1, 1024] });
    expect(all.length).toBeGreaterThan(3);
    expect(all.length).toBeLessThanOrEqual(MAX_AUTOMATIC_CANDIDATES);
    expect(new Set(all.map((c) => JSON.stringify(shapes(c)))).size).toBe(all.length);
  });

  test('unnamed dynamic dimensions: a second family takes the one of a state input with fixed dims as its batch', () => {
    // As some exporters write silero VAD v5: input [?, ?], state [2, ?, 128], sr [].
    const all = candidates([t('input', 'float32', ['', '']), t('state', 'float32', [2, '', 128]), t('sr', 'int64', [])]);
    expect(shapes(all[0])).toEqual({ input: [1, 1024], state: [2, 64, 128], sr: [] });
    expect(shapes(all[1])).toEqual({ input: [1, 1024], state: [2, 1, 128], sr: [] });
    expect(all.map(shapes)).toContainEqual({ input: [1, 512], state: [2, 1, 128], sr: [] });
  });

  test('images get small spatial sizes, token ids short sequences, masks are ones', () => {
    const [img] = candidates([t('x', 'float32', ['N', 3, 'H', 'W'])]);
    expect(shapes(img)).toEqual({ x: [1, 3, 64, 64] });
    const [text] = candidates([t('input_ids', 'int64', ['batch', 'seq']), t('attention_mask', 'int64', ['batch', 'seq'])]);
    expect(shapes(text)).toEqual({ input_ids: [1, 16], attention_mask: [1, 16] });
    expect(Array.from(text[0].data as BigInt64Array).every((v) => v === 0n)).toBe(true);
    expect(Array.from(text[1].data as BigInt64Array).every((v) => v === 1n)).toBe(true);
  });

  test('fixed shapes give exactly one candidate', () => {
    expect(candidates([t('x', 'float32', [1, 16, 96])]).map(shapes)).toEqual([{ x: [1, 16, 96] }]);
  });
});

describe('explicit warmup', () => {
  const inputs = [t('input', 'float32', ['batch', 'sequence']), t('sr', 'int64', []), t('h', 'float32', [2, 'batch', 64])];
  const signature = signatureFromMetadata(inputs, out);
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-warmup-'));
    fs.mkdirSync(path.join(dir, 'warmup'));
    fs.writeFileSync(path.join(dir, 'warmup', 'audio.f32'), Buffer.from(Float32Array.from({ length: 2 * 1536 }, (_, i) => Math.sin(i / 10)).buffer));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = (json: unknown) => {
    const c = parseModelConfig(JSON.stringify({ warmup: json })).warmup;
    if (typeof c !== 'object') throw new Error('expected explicit warmup');
    return c;
  };

  test('a shape binds its symbolic dimensions for the inputs it does not name', () => {
    expect(shapes(explicitFeeds(config({ shape: { input: [2, 1536] } }), inputs, signature, dir))).toEqual({ input: [2, 1536], sr: [], h: [2, 2, 64] });
  });

  test('a sample data file (raw little-endian, as Triton input_data_file) is the input', () => {
    const feeds = explicitFeeds(config({ inputs: { input: { dims: [2, 1536], data_type: 'TYPE_FP32', input_data_file: 'audio.f32' } } }), inputs, signature, dir);
    const audio = feeds.find((f) => f.name === 'input')!.data as Float32Array;
    expect(audio[10]).toBeCloseTo(Math.sin(1), 6);
    expect(audio.length).toBe(2 * 1536);
  });

  test.each([
    [{ shape: { nope: [1] } }, "warmup names input 'nope', which the model does not have; its inputs are 'input', 'sr', 'h'"],
    [{ shape: { h: [2, 1, 32] } }, "warmup shape of 'h' [2,1,32]: dimension 2 must be 64"],
    [{ shape: { input: [1] } }, "warmup shape of 'input' [1] has rank 1; the model's input has rank 2"],
    [{ inputs: { input: { dims: [1, 1000], input_data_file: 'audio.f32' } } }, 'has 12288 bytes; shape [1,1000] of FP32 needs 4000'],
    [{ inputs: { input: { dims: [1, 10], input_data_file: 'missing.f32' } } }, 'warmup.inputs.input.input_data_file: cannot read'],
    [{ inputs: { sr: { dims: [], data_type: 'TYPE_FP32' } } }, "warmup data_type of 'sr' is TYPE_FP32; the model's input is INT64"],
  ])('%j → %s', (json, message) => {
    expect(() => explicitFeeds(config(json), inputs, signature, dir)).toThrow(message);
  });

  test.each([
    ['{"warmup": {"shape": {"x": [1, -3]}}}', 'warmup.shape.x[1]: got -3, expected an integer from 0'],
    ['{"warmup": {"inputs": {"x": {"dims": [1], "input_data_file": "../../etc/passwd"}}}}', "expected a file name inside the model's warmup/ directory"],
    ['{"warmup": {"inputs": {"x": {"dims": [1], "random_data": true}}}}', 'warmup.inputs.x: unknown key "random_data"'],
    ['{"warmup": {"count": 2}}', 'warmup: got {"count":2}, expected true, false,'],
  ])('config.json %s → %s', (text, message) => {
    expect(() => parseModelConfig(text)).toThrow(message);
  });
});
