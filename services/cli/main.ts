/**
 * `npm run cli -- <command>`: operator control of Switchboard.
 *   status                          breakers and health of every upstream
 *   breaker open|close|auto <id>    force a breaker (through its supervisor: still one writer)
 *   events [--count N]              tail breaker events (`sb.breaker.>`)
 *   failover <provider>|off         the global failover switch
 * Every command takes --json. Reads SB_CONFIG, TEMPORAL_ADDRESS, NATS_URL,
 * SB_TASK_QUEUE, SB_CLUSTER and SB_CONTROL_BUCKET like the worker.
 */
import { parseArgs } from 'node:util';
import { readRuntimeEnv } from '../../lib/config/env';
import { isConfigError, loadConfigFile } from '../../lib/config/load';
import { CliUsageError, runBreaker, runEvents, runFailover, runStatus, type CliContext } from './commands';

const usage = `usage: switchboard <status | breaker open|close|auto <upstream> | events [--count N] | failover <provider>|off> [--json] [--reason text]`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, reason: { type: 'string' }, count: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length === 0) {
    console.log(usage);
    return;
  }
  const env = readRuntimeEnv();
  const ctx: CliContext = { env, config: loadConfigFile(env.SB_CONFIG), json: values.json, print: (line) => console.log(line) };
  const [command, ...rest] = positionals;
  switch (command) {
    case 'status':
      return runStatus(ctx);
    case 'breaker': {
      const [action, upstream] = rest;
      if ((action !== 'open' && action !== 'close' && action !== 'auto') || !upstream) throw new CliUsageError('breaker needs open|close|auto and an upstream id');
      return runBreaker(ctx, action, upstream, values.reason ?? `operator (cli): ${action}`);
    }
    case 'events': {
      const count = values.count === undefined ? undefined : Number(values.count);
      if (count !== undefined && (!Number.isInteger(count) || count <= 0)) throw new CliUsageError('--count must be a positive integer');
      return runEvents(ctx, count);
    }
    case 'failover': {
      const [target] = rest;
      if (!target) throw new CliUsageError('failover needs a provider or off');
      return runFailover(ctx, target === 'off' ? null : target, values.reason);
    }
    default:
      throw new CliUsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const known = error instanceof Error && (error.name === 'CliUsageError' || error.name === 'CliInputError' || isConfigError(error));
    console.error(`switchboard: ${error instanceof Error ? error.message : String(error)}${error instanceof Error && error.name === 'CliUsageError' ? `\n${usage}` : ''}`);
    process.exit(known ? 2 : 1);
  },
);
