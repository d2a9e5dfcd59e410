/**
 * `make demo`: the main job on the embedded local stack (`make up` has
 * started Temporal, NATS, the fake vendor, a worker and the gateway). Leaves
 * the stack running so the executions stay visible in the Temporal UI.
 */
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { connectClient } from '../../lib/config/temporal-connection';
import { connect } from 'nats';
import { createSwitchboardClient } from '../../lib/client';
import { TASK_QUEUE } from '../../contracts/names';
import { payloadDataConverter } from '../../lib/codec';
import { ensureDevSecrets } from '../local-stack/dev-secrets';
import { killRecorded } from '../local-stack/processes';
import { startNodeServices } from '../local-stack/node-services';
import { readLocalStackEnv } from '../local-stack/settings';
import { demoBreakerTimeline } from './breaker-timeline';
import { demoSpreadAndFallback } from './calls';
import { demoGateway } from './gateway';
import { demoInsights } from './insights';
import { runSitePlannerDemo } from './site-planner';
import { vendorAdmin } from './vendor-admin';

async function main(): Promise<void> {
  const env = readLocalStackEnv();
  const uiUrl = `http://${env.SB_HOST}:${env.TEMPORAL_UI_PORT}`;
  const temporalAddress = `${env.SB_HOST}:${env.TEMPORAL_PORT}`;
  const connection = await connectClient({ address: temporalAddress });
  // The stack's payload key (made by `make up`): the demo reads and writes payloads as the worker does.
  const client = new Client({ connection, dataConverter: payloadDataConverter({ SB_PAYLOAD_KEYS_FILE: ensureDevSecrets(env.SB_DATA_DIR).payloadKeysFile }) });
  const say = (line: string) => console.log(line.startsWith('  ') ? line : `\n• ${line}`);
  const nats = await connect({ servers: `nats://${env.SB_HOST}:${env.NATS_PORT}`, name: 'switchboard-demo' });
  try {
    const sb = createSwitchboardClient({ client });
    const vendor = vendorAdmin(`http://${env.SB_HOST}:${env.FAKE_VENDOR_PORT}`);
    await demoSpreadAndFallback({ sb, vendor, uiUrl, say, nats });
    await demoBreakerTimeline({ client, sb, vendor, nats, say });
    await demoGateway({ gatewayUrl: `http://${env.SB_HOST}:${env.SB_GATEWAY_PORT}`, apiKey: 'sb-demo-key-acme', say });

    say('the site planner: interview → site map → one wireframe per page (fan-out) → plan, as child llmCall workflows');
    const result = await runSitePlannerDemo({
      client,
      log: say,
      pageCount: 12,
      onFanOutMidway: async () => {
        say("  SIGKILL the worker process mid-fan-out (the gateway's in-process worker keeps polling), then start a new one");
        killRecorded(join(env.SB_DATA_DIR, 'pids', 'worker.pid'));
        await startNodeServices({
          dataDir: env.SB_DATA_DIR,
          host: env.SB_HOST,
          fakeVendorPort: env.FAKE_VENDOR_PORT,
          gatewayPort: env.SB_GATEWAY_PORT,
          temporalAddress,
          natsUrl: `nats://${env.SB_HOST}:${env.NATS_PORT}`,
          configPath: env.SB_CONFIG,
          fakeVendor: env.SB_FAKE_VENDOR,
        });
        say('  a new worker is up');
      },
    });
    say(`  plan finished: ${JSON.stringify(result).length} bytes of structured plan; see it in the UI under the chain's workflow id`);
    await demoInsights({ client, nats, taskQueue: TASK_QUEUE, say });
    console.log(`\nTemporal UI: ${uiUrl} — the stack keeps running; \`make down\` stops it.`);
  } finally {
    await nats.drain().catch(() => undefined);
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
