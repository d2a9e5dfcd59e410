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
import { findFreePorts } from '../../lib/ports';
import { stopRecorded } from '../../services/local-stack/processes';
import { startLocalStack, stopLocalStack, type LocalStackOptions } from '../../services/local-stack/stack';

export interface OwnStack {
  temporalAddress: string;
  natsUrl: string;
  /** Stops one part (SIGTERM, waits for the exit). */
  stop(part: 'temporal' | 'nats'): Promise<void>;
  /** Starts what is not running again, on the same ports and data. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the pair on fresh free ports; a second try on other ports when a port was taken between finding and binding it. */
async function startPair(): Promise<{ options: LocalStackOptions; stack: Awaited<ReturnType<typeof startLocalStack>> }> {
  for (let attempt = 1; ; attempt++) {
    const [temporalPort, natsPort, natsMonitorPort] = await findFreePorts(3);
    const dataDir = mkdtempSync(join(process.env.SB_TEST_RUN_DIR ?? tmpdir(), 'own-stack-'));
    const options: LocalStackOptions = { dataDir, temporalPort: temporalPort!, natsPort: natsPort!, natsMonitorPort: natsMonitorPort!, readyTimeoutMs: 120_000, persist: true };
    try {
      return { options, stack: await startLocalStack(options) };
    } catch (error) {
      await stopLocalStack(dataDir);
      if (attempt >= 2) throw error;
    }
  }
}

export async function startOwnStack(): Promise<OwnStack> {
  const { options, stack } = await startPair();
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
