/**
 * `make demo`: the main job on the embedded local stack (`make up` has
 * started Temporal, NATS, the fake vendor and a worker). Leaves the stack
 * running so the executions stay visible in the Temporal UI.
 */
import { Client, Connection } from '@temporalio/client';
import { createSwitchboardClient } from '../../lib/client';
import { readLocalStackEnv } from '../local-stack/settings';
import { demoSpreadAndFallback } from './calls';
import { vendorAdmin } from './vendor-admin';

async function main(): Promise<void> {
  const env = readLocalStackEnv();
  const uiUrl = `http://${env.SB_HOST}:${env.TEMPORAL_UI_PORT}`;
  const connection = await Connection.connect({ address: `${env.SB_HOST}:${env.TEMPORAL_PORT}` });
  const say = (line: string) => console.log(line.startsWith('  ') ? line : `\n• ${line}`);
  try {
    const ctx = { sb: createSwitchboardClient({ client: new Client({ connection }) }), vendor: vendorAdmin(`http://${env.SB_HOST}:${env.FAKE_VENDOR_PORT}`), uiUrl, say };
    await demoSpreadAndFallback(ctx);
    console.log(`\nTemporal UI: ${uiUrl} — the stack keeps running; \`make down\` stops it.`);
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
