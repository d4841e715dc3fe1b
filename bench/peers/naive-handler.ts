/**
 * The peer a user would write: one Fastify process, the model loaded with onnxruntime-node's
 * defaults, a JSON body parsed by Fastify, and one `session.run` per request on the main thread.
 * It speaks the Open Inference Protocol's JSON form so the same requests reach every server.
 *
 *   node dist/bench/peers/naive-handler.js --port N --model <name>=<file.onnx> [--model ...]
 */
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

interface JsonInput {
  name: string;
  datatype: string;
  shape: number[];
  data: number[];
}

const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1]);
const files: Record<string, string> = {};
args.forEach((a, i) => {
  if (a === '--model') {
    const [name, file] = args[i + 1].split('=');
    files[name] = file;
  }
});

async function main(): Promise<void> {
  const sessions: Record<string, ort.InferenceSession> = {};
  for (const [name, file] of Object.entries(files)) sessions[name] = await ort.InferenceSession.create(file);

  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.post<{ Params: { model: string }; Body: { inputs: JsonInput[] } }>('/v2/models/:model/infer', async (req, reply) => {
    const session = sessions[req.params.model];
    if (!session) return reply.code(404).send({ error: 'unknown model' });
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of req.body.inputs) feeds[input.name] = new ort.Tensor('float32', Float32Array.from(input.data.flat(4) as number[]), input.shape);
    const results = await session.run(feeds);
    return {
      model_name: req.params.model,
      outputs: Object.entries(results).map(([name, t]) => ({ name, datatype: t.type === 'int64' ? 'INT64' : 'FP32', shape: t.dims, data: Array.from(t.data as ArrayLike<number | bigint>, Number) })),
    };
  });
  app.get('/v2/health/ready', async () => ({ ready: true }));
  await app.listen({ host: '127.0.0.1', port });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
