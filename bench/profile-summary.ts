/**
 * Where a server's CPU went: summarises the V8 CPU profiles a bench run wrote with
 * BENCH_CPU_PROF_DIR set (one directory per server process, one .cpuprofile per thread) into
 * self time by category — HTTP, Fastify, the protocol codec, JSON, copies and thread hops,
 * logging, metrics, onnxruntime, GC, idle.
 *
 *   BENCH_CPU_PROF_DIR=/tmp/prof node dist/bench/run.js --quick ...
 *   node dist/bench/profile-summary.js /tmp/prof > bench/results/profile.md
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** First matching rule names the category; checked on "url functionName". */
const RULES: Array<[string, RegExp]> = [
  // piscina's workers block in Atomics.wait between tasks: that is idle time, not work.
  ['idle', /\(idle\)|atomicsWaitLoop/],
  ['GC', /\(garbage collector\)/],
  ['onnxruntime (session.run, tensors)', /onnxruntime|InferenceSession|backend\.js|run\b.*session/i],
  ['worker hop (piscina postTask: structured clone, postMessage)', /piscina|worker_pool|worker_threads|postMessage|MessagePort|structuredClone|internal\/worker|receiveMessageOnPort/],
  ['logging (pino)', /pino|sonic-boom|thread-stream/],
  ['metrics (prom-client)', /prom-client/],
  ['protocol codec (decode, validate, encode)', /runtime\/protocol\/(codec|json-codec|binary-codec|validate|datatypes|fp16)/],
  ['body reading and admission', /runtime\/protocol\/body-reader|runtime\/admission/],
  ['batching, queues, dispatch', /runtime\/scheduling/],
  ['other onnx-fleet code', /runtime\//],
  ['JSON parse / stringify', /\bJSON|parse\b|stringify/],
  ['Fastify (routing, hooks, reply)', /fastify|find-my-way|avvio|light-my-request|secure-json-parse|fast-json-stringify/],
  ['HTTP and sockets (node:http, net, streams)', /node:_http|node:http|node:net|_http_|node:stream|internal\/streams|internal\/http|\(program\)|writev|Socket|TCPWRAP|llhttp/],
  ['buffers and copies', /Buffer|buffer\.js|copy|concat|TypedArray|Float32Array|set\b/],
];

function categorise(node: ProfileNode): string {
  const key = `${node.callFrame.url} ${node.callFrame.functionName}`;
  for (const [name, re] of RULES) if (re.test(key)) return name;
  return 'other (V8 internals, timers, unattributed)';
}

function summarise(files: string[]): { totalMs: number; byCategory: Map<string, number> } {
  const byCategory = new Map<string, number>();
  let totalMs = 0;
  for (const file of files) {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    const hits = p.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0);
    if (hits === 0) continue;
    const msPerHit = (p.endTime - p.startTime) / 1000 / hits;
    for (const node of p.nodes) {
      if (!node.hitCount) continue;
      const c = categorise(node);
      byCategory.set(c, (byCategory.get(c) ?? 0) + node.hitCount * msPerHit);
      totalMs += node.hitCount * msPerHit;
    }
  }
  return { totalMs, byCategory };
}

function main(): void {
  const root = process.argv[2];
  if (!root) throw new Error('usage: profile-summary <BENCH_CPU_PROF_DIR>');
  const out: string[] = ['# Where the CPU goes, per server process', '', `Profiles: \`${root}\` (V8 sampling profiler, every thread of each server; self time; busy = not idle).`, ''];
  for (const dir of fs.readdirSync(root).sort()) {
    const all = fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.cpuprofile'));
    // CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile: thread 0 is the main thread (HTTP, codec, dispatch).
    const main = all.filter((f) => f.split('.')[4] === '0');
    const workers = all.filter((f) => f.split('.')[4] !== '0');
    for (const [label, files] of [['main thread', main], [`${workers.length} inference worker thread${workers.length === 1 ? '' : 's'}`, workers]] as const) {
      if (files.length === 0) continue;
      const { totalMs, byCategory } = summarise(files.map((f) => path.join(root, dir, f)));
      const idle = byCategory.get('idle') ?? 0;
      const busy = totalMs - idle;
      out.push(`## ${dir}: ${label} (busy ${(busy / 1000).toFixed(1)} s of ${(totalMs / 1000).toFixed(1)} s sampled, ${((busy / totalMs) * 100).toFixed(0)} %)`, '');
      out.push('| category | share of busy time | ms |', '|---|---:|---:|');
      for (const [c, t] of [...byCategory].filter(([c]) => c !== 'idle').sort((a, b) => b[1] - a[1])) {
        if (t / busy < 0.005) continue;
        out.push(`| ${c} | ${((t / busy) * 100).toFixed(1)} % | ${Math.round(t).toLocaleString('en-US')} |`);
      }
      out.push('');
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

main();
