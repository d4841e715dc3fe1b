/**
 * Reads what onnxruntime-node's session metadata does not tell from an ONNX file: IR version and
 * opset imports, which graph inputs have an initializer (a default value), what the non-tensor
 * inputs and outputs are (sequences, maps), and which external data files the initializers use.
 *
 * A small protobuf walker over the file descriptor: it decodes only these fields of onnx.proto and
 * skips everything else by length (weights are never read), so a 2 GB model costs a few reads.
 */
import fs from 'node:fs';

export interface OnnxValue {
  name: string;
  /** "tensor(float)", "seq(map(int64,tensor(float)))", ... in ONNX's own notation. */
  type: string;
  isTensor: boolean;
}

export interface OnnxGraphInfo {
  irVersion: number;
  /** Domain ('' is ai.onnx) → opset version. */
  opsets: Map<string, number>;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** Graph inputs that also have an initializer: not inputs onnxruntime-node takes from a request. */
  defaultedInputs: string[];
  /** External data files the initializers refer to (relative to the model's directory) → initializer names. */
  externalData: Map<string, string[]>;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Random access to a file through a small window. */
class FileBytes {
  private window = Buffer.alloc(1 << 16);
  private start = 0;
  private end = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  byte(at: number): number {
    if (at < this.start || at >= this.end) {
      if (at >= this.size) throw new Error('truncated protobuf');
      this.start = at;
      this.end = at + fs.readSync(this.fd, this.window, 0, this.window.length, at);
    }
    return this.window[at - this.start];
  }

  slice(from: number, to: number): Buffer {
    if (to > this.size) throw new Error('truncated protobuf');
    const out = Buffer.alloc(to - from);
    fs.readSync(this.fd, out, 0, out.length, from);
    return out;
  }
}

interface Field {
  number: number;
  /** The varint value (wire type 0). */
  value: number;
  /** Byte range of a length-delimited value (wire type 2). */
  from: number;
  to: number;
}

/** Calls `visit` for every field of the message in [from, to). */
function walk(bytes: FileBytes, from: number, to: number, visit: (f: Field) => void): void {
  let at = from;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = bytes.byte(at++);
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error('malformed varint');
  };
  while (at < to) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === WIRE_VARINT) visit({ number, value: varint(), from: 0, to: 0 });
    else if (wire === WIRE_LEN) {
      const length = varint();
      const start = at;
      at += length;
      if (at > to) throw new Error('truncated protobuf');
      visit({ number, value: 0, from: start, to: at });
    } else if (wire === WIRE_FIXED64) at += 8;
    else if (wire === WIRE_FIXED32) at += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const ELEM_TYPES = ['undefined', 'float', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16', 'double', 'uint32', 'uint64', 'complex64', 'complex128', 'bfloat16', 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'uint4', 'int4', 'float4e2m1'];
const elem = (n: number) => ELEM_TYPES[n] ?? `type${n}`;

/** TypeProto in ONNX's notation. */
function typeOf(bytes: FileBytes, from: number, to: number): string {
  let out = 'unknown';
  walk(bytes, from, to, (f) => {
    if (f.number === 1 || f.number === 8) {
      // tensor_type / sparse_tensor_type { elem_type = 1 }
      let e = 0;
      walk(bytes, f.from, f.to, (g) => g.number === 1 && (e = g.value));
      out = `${f.number === 8 ? 'sparse_tensor' : 'tensor'}(${elem(e)})`;
    } else if (f.number === 4 || f.number === 9) {
      // sequence_type / optional_type { elem_type = 1 (TypeProto) }
      let inner = 'unknown';
      walk(bytes, f.from, f.to, (g) => g.number === 1 && (inner = typeOf(bytes, g.from, g.to)));
      out = `${f.number === 4 ? 'seq' : 'optional'}(${inner})`;
    } else if (f.number === 5) {
      // map_type { key_type = 1, value_type = 2 }
      let key = 0;
      let value = 'unknown';
      walk(bytes, f.from, f.to, (g) => {
        if (g.number === 1) key = g.value;
        if (g.number === 2) value = typeOf(bytes, g.from, g.to);
      });
      out = `map(${elem(key)},${value})`;
    }
  });
  return out;
}

function valueInfo(bytes: FileBytes, from: number, to: number): OnnxValue {
  let name = '';
  let type = 'unknown';
  walk(bytes, from, to, (f) => {
    if (f.number === 1) name = bytes.slice(f.from, f.to).toString('utf8');
    if (f.number === 2) type = typeOf(bytes, f.from, f.to);
  });
  return { name, type, isTensor: type.startsWith('tensor(') };
}

/** TensorProto: its name and, when stored externally, the file. */
function initializer(bytes: FileBytes, from: number, to: number): { name: string; location?: string } {
  let name = '';
  let external = false;
  let location: string | undefined;
  walk(bytes, from, to, (f) => {
    if (f.number === 8) name = bytes.slice(f.from, f.to).toString('utf8');
    if (f.number === 14) external = f.value === 1;
    if (f.number === 13) {
      let key = '';
      let value = '';
      walk(bytes, f.from, f.to, (g) => {
        if (g.number === 1) key = bytes.slice(g.from, g.to).toString('utf8');
        if (g.number === 2) value = bytes.slice(g.from, g.to).toString('utf8');
      });
      if (key === 'location') location = value;
    }
  });
  return external ? { name, location } : { name };
}

/** Reads the facts above from an ONNX file. Throws when the file is not a readable ONNX protobuf. */
export function readOnnxGraph(file: string): OnnxGraphInfo {
  const fd = fs.openSync(file, 'r');
  try {
    const bytes = new FileBytes(fd, fs.fstatSync(fd).size);
    const info: OnnxGraphInfo = { irVersion: 0, opsets: new Map(), inputs: [], outputs: [], defaultedInputs: [], externalData: new Map() };
    const initializers = new Set<string>();
    walk(bytes, 0, bytes.size, (f) => {
      if (f.number === 1) info.irVersion = f.value;
      if (f.number === 8) {
        let domain = '';
        let version = 0;
        walk(bytes, f.from, f.to, (g) => {
          if (g.number === 1) domain = bytes.slice(g.from, g.to).toString('utf8');
          if (g.number === 2) version = g.value;
        });
        info.opsets.set(domain === 'ai.onnx' ? '' : domain, version);
      }
      if (f.number === 7) {
        walk(bytes, f.from, f.to, (g) => {
          if (g.number === 5) {
            const init = initializer(bytes, g.from, g.to);
            initializers.add(init.name);
            if (init.location !== undefined) info.externalData.set(init.location, [...(info.externalData.get(init.location) ?? []), init.name]);
          }
          if (g.number === 15) {
            // sparse_initializer { values = 1 (TensorProto) }
            walk(bytes, g.from, g.to, (h) => h.number === 1 && initializers.add(initializer(bytes, h.from, h.to).name));
          }
          if (g.number === 11) info.inputs.push(valueInfo(bytes, g.from, g.to));
          if (g.number === 12) info.outputs.push(valueInfo(bytes, g.from, g.to));
        });
      }
    });
    info.defaultedInputs = info.inputs.filter((i) => initializers.has(i.name)).map((i) => i.name);
    info.inputs = info.inputs.filter((i) => !initializers.has(i.name));
    return info;
  } finally {
    fs.closeSync(fd);
  }
}

/** "ai.onnx 17, ai.onnx.ml 3" */
export function describeOpsets(opsets: Map<string, number>): string {
  return [...opsets].map(([d, v]) => `${d === '' ? 'ai.onnx' : d} ${v}`).join(', ') || 'none declared';
}
