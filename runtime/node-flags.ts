/**
 * The Node.js (V8) flags `onnx-fleet serve` runs with. V8 reads heap flags only when the process
 * starts (set later with v8.setFlagsFromString they change nothing: measured), and Node refuses
 * them in NODE_OPTIONS, so every launcher passes them on the command line: the bundle's
 * bin/onnx-fleet (packaging/systemd.ts launcher(), what systemd, the container and the pods run),
 * the npm package's bin/onnx-fleet (its shebang), `npm start`, the bench and the test helpers.
 * test/runtime/node-flags.test.ts keeps them all equal to this list.
 *
 * --initial-old-space-size=128: V8 sizes the old generation's limit from what survived the last
 * full GC (~16 MB here, so a limit of ~40 MB), and counts the memory outside its heap allocated
 * since then (request bodies, batched inputs: ArrayBuffers) against that limit. A server taking
 * in ~400 MB/s of CNN request bodies used the slack up within ~100 ms, over and over: runs of one
 * mark-compact every ~100 ms (61–75 in a 5 s cell at c=8), V8's helper threads at 0.24 ms of CPU
 * per request instead of 0.01, the main thread at 0.32 ms instead of 0.25, and throughput down by a
 * fifth, in some cells and not others of the same server. With a 128 MB floor (64 MB was not enough:
 * 15–19 per cell) there were none in six cells (c=8 and c=32, three each), and c=32 served
 * 1,631–1,706 req/s at 1.10–1.15 ms of CPU per request against 1,522–1,658 at 1.13–1.23 with storms.
 * The cost is up to that much garbage held between collections: after a burst, RSS stayed 13.5 %
 * above its idle level (10,000 fuzzed requests, watched for 20 s).
 *
 * --expose-gc: so that the runtime can collect that garbage once it is quiet (idle-heap-trim.ts).
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128', '--expose-gc'];

/** The flags of SERVE_NODE_FLAGS this process was started without (by name: any value counts). */
export function missingServeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return SERVE_NODE_FLAGS.filter((flag) => {
    const name = flag.split('=')[0];
    return !execArgv.some((a) => a === name || a.startsWith(`${name}=`) || a.replace(/_/g, '-').startsWith(`${name}=`));
  });
}
