/**
 * `npm run cli -- <command>`: operator control of Switchboard.
 *   status                          breakers and health of every upstream
 *   breaker open|close|auto <id> [--model M]   force an upstream's breaker, or one model's (through its supervisor: still one writer)
 *   events [--count N]              tail breaker events (`sb.breaker.>`)
 *   failover <provider>|off         the global failover switch
 *   config check|push <file>        validate a config file / push it to SB_CONFIG_BUCKET (every pod reloads)
 *   drill <route> [<route>…]        send sample prompts through every entry of the routes now (exit 1 if one fails)
 *   report [--tenant T] [--since ISO|--days N] [--until ISO] [--by dims] [--cost-by dims]
 *                                   insert rate and cost of a period (services/cli/report.ts)
 *   insights run [--days N] [--tenant T]   run the insights job now and print its Markdown report
 * Every command takes --json. Reads SB_CONFIG, TEMPORAL_ADDRESS, NATS_URL,
 * SB_TASK_QUEUE, SB_CLUSTER and SB_CONTROL_BUCKET like the worker.
 */
import { parseArgs } from 'node:util';
import { readRuntimeEnv } from '../../lib/config/env';
import { isConfigError, loadConfigFile } from '../../lib/config/load';
import { CliUsageError, runBreaker, runEvents, runFailover, runStatus, type CliContext } from './commands';
import { runDrill } from './drill';
import { runInsights } from './insights';
import { runReport } from './report';
import { runConfig } from './config';

const usage = `usage: switchboard <status | breaker open|close|auto <upstream> [--model M] | events [--count N] | failover <provider>|off | drill <route>… | config check|push <file> | report [--tenant T] [--since ISO|--days N] [--until ISO] [--by feature,route,…] [--cost-by user,…] | insights run [--days N] [--tenant T]> [--json] [--keys] [--reason text]`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      reason: { type: 'string' },
      model: { type: 'string' },
      count: { type: 'string' },
      tenant: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      days: { type: 'string' },
      by: { type: 'string' },
      'cost-by': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      keys: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(usage);
    return;
  }
  const env = readRuntimeEnv();
  // Needs no SB_CONFIG: the file to check or push is the argument.
  if (positionals[0] === 'config') return runConfig({ env, json: values.json, keys: values.keys, print: (line) => console.log(line) }, positionals.slice(1));
  const ctx: CliContext = { env, config: loadConfigFile(env.SB_CONFIG, process.env), json: values.json, print: (line) => console.log(line) };
  const [command, ...rest] = positionals;
  switch (command) {
    case 'status':
      return runStatus(ctx);
    case 'breaker': {
      const [action, upstream] = rest;
      if ((action !== 'open' && action !== 'close' && action !== 'auto') || !upstream)
        throw new CliUsageError('breaker needs open|close|auto and an upstream id');
      return runBreaker(ctx, action, upstream, values.reason ?? `operator (cli): ${action}`, values.model);
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
    case 'drill':
      if (rest.length === 0) throw new CliUsageError('drill needs a route');
      return runDrill(ctx, rest);
    case 'report':
      return runReport(ctx, { tenant: values.tenant, since: values.since, until: values.until, days: values.days, by: values.by, costBy: values['cost-by'] });
    case 'insights':
      if (rest[0] !== 'run') throw new CliUsageError('insights needs "run"');
      return runInsights(ctx, { days: values.days, tenant: values.tenant });
    default:
      throw new CliUsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const known = error instanceof Error && (error.name === 'CliUsageError' || error.name === 'CliInputError' || isConfigError(error));
    console.error(
      `switchboard: ${error instanceof Error ? error.message : String(error)}${error instanceof Error && error.name === 'CliUsageError' ? `\n${usage}` : ''}`,
    );
    process.exit(known ? 2 : 1);
  },
);
