/**
 * `make demo`: the main job on the embedded local stack. Runs after `make up`;
 * leaves the stack running so the executions stay visible in the Temporal UI.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { connect, JSONCodec } from 'nats';
import { createProbeActivities } from '../../activities/probe';
import { ensureStreams, streams } from '../../lib/nats/streams';
import { ProbeEvent } from '../../schemas/probe';
import { probeWorkflowId } from '../../workflows/definitions';
import { readLocalStackEnv } from '../local-stack/settings';

async function main(): Promise<void> {
  const env = readLocalStackEnv();
  const temporalAddress = `${env.SB_HOST}:${env.TEMPORAL_PORT}`;
  const natsUrl = `nats://${env.SB_HOST}:${env.NATS_PORT}`;
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const nats = await connect({ servers: natsUrl, name: 'switchboard-demo' });
  await ensureStreams(nats);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection });
  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  const taskQueue = `demo-${randomUUID().slice(0, 8)}`;
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowsPath: require.resolve('../../workflows/index'),
    activities: createProbeActivities({ nats }),
  });

  try {
    const probeId = randomUUID();
    const workflowId = probeWorkflowId(probeId);
    step(`starting workflow ${workflowId} on task queue ${taskQueue}`);
    const result = await worker.runUntil(
      client.workflow.execute('probe', { taskQueue, workflowId, args: [{ probeId, message: 'hello from make demo' }] }),
    );
    step(`its activity published event #${result.seq} on JetStream stream ${streams.probes.name}`);

    const jsm = await nats.jetstreamManager();
    const stored = await jsm.streams.getMessage(streams.probes.name, { last_by_subj: `sb.probe.${probeId}` });
    const event = ProbeEvent.parse(JSONCodec().decode(stored.data));
    step(`read it back from NATS: ${JSON.stringify(event)}`);
    step(`see the execution: http://${env.SB_HOST}:${env.TEMPORAL_UI_PORT}/namespaces/default/workflows/${workflowId}`);
    console.log('\nThe stack keeps running; `make down` stops it.');
  } finally {
    await nats.drain();
    await connection.close();
    await workerConnection.close();
  }
}

function step(message: string): void {
  console.log(`• ${message}`);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
