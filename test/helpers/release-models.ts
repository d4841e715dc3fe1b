/**
 * Models for the release tests, written at test time with the repository's ONNX builder:
 * `addConst(c)` (y = x + c, so a response says which version answered), `failsAtRun` (loads,
 * and fails on every input: a canary that breaks), and `largeWeights` (a MatMul with a
 * 5000×5000 float weight: 100 MB, whose load grows RSS by at least as much).
 */
import fs from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { ELEM, floatTensor, int64Tensor, model, node, valueInfo } from '../../scripts/onnx-builder';

export function addConst(c: number): Buffer {
  return model({
    name: `add_${c}`,
    inputs: [valueInfo('x', 'float', ['batch', 1])],
    outputs: [valueInfo('y', 'float', ['batch', 1])],
    initializers: [floatTensor('c', [], [c])],
    nodes: [node('Add', ['x', 'c'], ['y'])],
  });
}

/** Same signature as addConst; every run fails (a reshape of [n,1] to [3] with n ≠ 3). Needs `"warmup": false`. */
export function failsAtRun(): Buffer {
  return model({
    name: 'fails_at_run',
    inputs: [valueInfo('x', 'float', ['batch', 1])],
    outputs: [valueInfo('y', 'float', ['batch', 1])],
    initializers: [int64Tensor('shape', [2], [3, 7])],
    nodes: [node('Reshape', ['x', 'shape'], ['y'])],
  });
}

export const LARGE_SIDE = 5000;

export function largeWeights(): Buffer {
  const weights: onnx.ITensorProto = { name: 'W', dataType: ELEM.float, dims: [LARGE_SIDE, LARGE_SIDE], rawData: Buffer.alloc(LARGE_SIDE * LARGE_SIDE * 4, 1) };
  return model({
    name: 'large',
    inputs: [valueInfo('x', 'float', ['batch', LARGE_SIDE])],
    outputs: [valueInfo('y', 'float', ['batch', LARGE_SIDE])],
    initializers: [weights],
    nodes: [node('MatMul', ['x', 'W'], ['y'])],
  });
}

/** Writes a version directory (model.onnx + extra files) and returns its path. */
export function versionDir(root: string, name: string, onnxBytes: Buffer, extra: Record<string, string | Buffer> = {}): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.onnx'), onnxBytes);
  for (const [file, body] of Object.entries(extra)) fs.writeFileSync(path.join(dir, file), body);
  return dir;
}
