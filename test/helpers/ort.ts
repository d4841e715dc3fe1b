/**
 * onnxruntime-node for in-process reference sessions in Jest.
 *
 * Jest runs each test file in its own V8 context. onnxruntime-node's addon creates output typed
 * arrays in the process's main context, and onnxruntime-common's Tensor rejects them (`instanceof
 * Float32Array` fails across contexts) when it is loaded in Jest's. So load onnxruntime-node with
 * Node's own require, in the main context, and make input typed arrays with that context's
 * constructors (`main`).
 */
import vm from 'node:vm';
import type * as Ort from 'onnxruntime-node';

export const main = vm.runInThisContext('globalThis') as typeof globalThis;
const nodeModule = main.process.getBuiltinModule('node:module') as typeof import('node:module');
export const ort = nodeModule.createRequire(__filename)('onnxruntime-node') as typeof Ort;
