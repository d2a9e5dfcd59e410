/**
 * `make cluster-up` / `make cluster-down` / `make cluster-status`: the
 * production topology on one machine (services/cluster-stack/stack.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isOurProcessAlive, readPidFile } from '../local-stack/processes';
import { readClusterStackEnv } from './settings';
import { startClusterStack, stopClusterStack } from './stack';

function status(): void {
  const env = readClusterStackEnv(process.env, false);
  const pids = join(resolve(env.SB_CLUSTER_DATA_DIR), 'pids');
  const names = existsSync(pids)
    ? readdirSync(pids)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => f.slice(0, -4))
    : [];
  let running = 0;
  for (const name of names) {
    const record = readPidFile(join(pids, `${name}.pid`));
    if (record && isOurProcessAlive(record)) {
      running++;
      console.log(`${name.padEnd(16)} pid ${record.pid} since ${record.startedAt}`);
    }
  }
  if (running === 0) console.log('cluster stack is not running');
}

async function main(command: string | undefined): Promise<void> {
  const say = (line: string) => console.log(line);
  if (command === 'up') return void (await startClusterStack(readClusterStackEnv(), say));
  if (command === 'down') return stopClusterStack(readClusterStackEnv(process.env, false).SB_CLUSTER_DATA_DIR, say);
  if (command === 'status') return status();
  throw new Error(`usage: cluster-stack up|down|status (got ${command ?? 'nothing'})`);
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(`switchboard: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
