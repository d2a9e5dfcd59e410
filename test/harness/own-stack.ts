/**
 * A Temporal dev server and nats-server of a test file's own (persistent:
 * SQLite and JetStream on disk), for tests that stop and restart one of them
 * under traffic without disturbing every other test file's shared stack.
 * `use()` points the harness (startSwitchboard, startGateway, spawned
 * processes) at it until `close()`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopRecorded } from '../../services/local-stack/processes';
import { startLocalStack, startLocalStackOnFreePorts, stopLocalStack } from '../../services/local-stack/stack';

export interface OwnStack {
  temporalAddress: string;
  natsUrl: string;
  /** Stops one part (SIGTERM, waits for the exit). */
  stop(part: 'temporal' | 'nats'): Promise<void>;
  /** Starts what is not running again, on the same ports and data. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startOwnStack(): Promise<OwnStack> {
  const { options, stack } = await startLocalStackOnFreePorts({
    newDataDir: () => mkdtempSync(join(process.env.SB_TEST_RUN_DIR ?? tmpdir(), 'own-stack-')),
    readyTimeoutMs: 120_000,
    persist: true,
  });
  const { dataDir } = options;
  const saved = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, NATS_URL: process.env.NATS_URL };
  // The harness reads these when it connects: from here on it connects to this stack.
  process.env.TEMPORAL_ADDRESS = stack.temporalAddress;
  process.env.NATS_URL = stack.natsUrl;
  return {
    temporalAddress: stack.temporalAddress,
    natsUrl: stack.natsUrl,
    async stop(part) {
      await stopRecorded(join(dataDir, 'pids', `${part === 'nats' ? 'nats' : 'temporal'}.pid`), 10_000);
    },
    async restart() {
      await startLocalStack(options);
    },
    async close() {
      process.env.TEMPORAL_ADDRESS = saved.TEMPORAL_ADDRESS;
      process.env.NATS_URL = saved.NATS_URL;
      await stopLocalStack(dataDir);
    },
  };
}
