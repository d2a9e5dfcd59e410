/**
 * `npm run fake-vendor -- --config <file> [--port N] [--host H] [--scenario <file>]`
 *
 * Runs the fake vendor until SIGINT/SIGTERM. Logs JSON lines (pino) to stdout;
 * API keys are never logged.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { isFakeVendorConfigError, loadFakeVendorConfigFile, loadScenarioFile, startFakeVendor } from './index';

const USAGE = 'usage: npm run fake-vendor -- --config <file> [--port N] [--host H] [--scenario <file>]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p', default: '8089' },
      host: { type: 'string', default: '127.0.0.1' },
      scenario: { type: 'string', short: 's' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.config === undefined) throw new Error(`--config is required\n${USAGE}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be an integer 0..65535, got '${values.port}'`);

  const logger = pino({ name: 'fake-vendor', level: values['log-level'], redact: ['key', '*.key', 'apiKey', 'headers.authorization', 'headers["x-api-key"]'] });
  const config = loadFakeVendorConfigFile(values.config);
  const vendor = await startFakeVendor({ config, port, host: values.host, logger });
  if (values.scenario !== undefined) vendor.runScenario(loadScenarioFile(values.scenario));

  const stop = (signal: string): void => {
    logger.info({ signal }, 'fake vendor stopping');
    vendor.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`fake-vendor: ${isFakeVendorConfigError(error) || error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
