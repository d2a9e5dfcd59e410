/**
 * The floor as an HTTP target, so the bench's `openai` client measures it the
 * way it measures the gateway: each POST /v1/chat/completions starts a
 * `floorCall` workflow eagerly from this process's own worker connection (one
 * workflow task: the local activity calls the vendor) and answers its result.
 * Bare on purpose: no payload codec, no NATS, no admission.
 *
 *   TEMPORAL_ADDRESS=… FLOOR_PORT=… FLOOR_VENDOR_URL=… FLOOR_VENDOR_KEY=… npx tsx bench/floor/main.ts
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createFloorActivities } from './activities';
import type { floorCall } from './workflow';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const taskQueue = `bench-floor-${randomUUID().slice(0, 8)}`;
  const connection = await NativeConnection.connect({ address: required('TEMPORAL_ADDRESS') });
  const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error };
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflow'), logger: quiet });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle,
    activities: createFloorActivities({ vendorUrl: required('FLOOR_VENDOR_URL'), apiKey: required('FLOOR_VENDOR_KEY') }),
  });
  // Eager start needs the client on the worker's own connection.
  const client = new Client({ connection });
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/readyz') return void res.writeHead(200).end('ok');
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      client.workflow
        .execute<typeof floorCall>('floorCall', {
          taskQueue,
          workflowId: `floor-${randomUUID()}`,
          args: [Buffer.concat(chunks).toString('utf8')],
          requestEagerStart: true,
        })
        .then(
          (answer) => res.writeHead(200, { 'content-type': 'application/json' }).end(answer),
          (error: unknown) => res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(error) } })),
        );
    });
  });
  const port = Number(required('FLOOR_PORT'));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  console.log(`floor listening on ${port}, task queue ${taskQueue}`);
  const stop = () => {
    server.close();
    worker.shutdown();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
