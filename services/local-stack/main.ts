/**
 * `make up` / `make down` / `make status`: the embedded local stack
 * (Temporal dev server with SQLite and Web UI, nats-server with JetStream).
 */
import { describeLocalStack, startLocalStack, stopLocalStack } from './stack';
import { ensureDevSecrets, uiCodecEndpoint } from './dev-secrets';
import { readLocalStackEnv } from './settings';
import { DEFAULT_STACK_CONFIG, startNodeServices, stopNodeServices } from './node-services';

async function main(command: string | undefined): Promise<void> {
  const env = readLocalStackEnv();
  switch (command) {
    case 'up': {
      const secrets = ensureDevSecrets(env.SB_DATA_DIR);
      const gatewayUrl = `http://${env.SB_HOST}:${env.SB_GATEWAY_PORT}`;
      const uiOrigin = `http://${env.SB_HOST}:${env.TEMPORAL_UI_PORT}`;
      const stack = await startLocalStack({
        uiCodecEndpoint: uiCodecEndpoint(gatewayUrl, secrets.codecToken),
        dataDir: env.SB_DATA_DIR,
        host: env.SB_HOST,
        temporalPort: env.TEMPORAL_PORT,
        temporalUiPort: env.TEMPORAL_UI_PORT,
        natsPort: env.NATS_PORT,
        natsMonitorPort: env.NATS_MONITOR_PORT,
        temporalBin: env.SB_TEMPORAL_BIN,
        natsBin: env.SB_NATS_BIN,
      });
      const services = await startNodeServices({
        dataDir: env.SB_DATA_DIR,
        host: env.SB_HOST,
        fakeVendorPort: env.FAKE_VENDOR_PORT,
        gatewayPort: env.SB_GATEWAY_PORT,
        temporalAddress: stack.temporalAddress,
        natsUrl: stack.natsUrl,
        configPath: env.SB_CONFIG,
        fakeVendor: env.SB_FAKE_VENDOR,
        temporalUiOrigin: uiOrigin,
      });
      console.log(`Temporal     ${stack.temporalAddress}`);
      console.log(`Temporal UI  ${stack.temporalUiUrl ?? '(headless)'} (payloads decoded through the gateway's codec server)`);
      console.log(
        `payloads     encrypted (key ${secrets.payloadKeysFile}); CLI: temporal workflow show -w <id> --codec-endpoint ${gatewayUrl}/codec --codec-auth "Bearer $(cat ${secrets.payloadKeysFile.replace(/payload-keys$/, 'codec-token')})"`,
      );
      console.log(`NATS         ${stack.natsUrl} (monitoring ${stack.natsMonitorUrl})`);
      console.log(
        services.fakeVendorUrl
          ? `fake vendor  ${services.fakeVendorUrl} (OpenAI: ${services.fakeVendorUrl}/v1, admin: ${services.fakeVendorUrl}/_admin)`
          : `fake vendor  not started (the config does not point at it; SB_FAKE_VENDOR=on starts it anyway)`,
      );
      console.log(`worker       task queue switchboard, config ${services.configPath}`);
      console.log(
        `gateway      ${services.gatewayUrl}/v1 (OpenAI-compatible${services.configPath === DEFAULT_STACK_CONFIG ? '; demo key sb-demo-key-acme' : ''})`,
      );
      console.log(`logs         ${stack.dataDir}/logs`);
      return;
    }
    case 'down': {
      const result = { ...(await stopNodeServices(env.SB_DATA_DIR)), ...(await stopLocalStack(env.SB_DATA_DIR)) };
      for (const [name, state] of Object.entries(result)) console.log(`${name.padEnd(12)} ${state}`);
      return;
    }
    case 'status': {
      const running = describeLocalStack(env.SB_DATA_DIR);
      if (running.length === 0) console.log('local stack is not running');
      for (const r of running) console.log(`${r.name.padEnd(12)} pid ${r.pid} since ${r.startedAt}`);
      return;
    }
    default:
      throw new Error(`usage: local-stack up|down|status (got ${command ?? 'nothing'})`);
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(`switchboard: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
