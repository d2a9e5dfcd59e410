/**
 * Starts one isolated local stack for the whole jest run (Temporal dev server
 * headless + nats-server with JetStream, on free ports, in a temp dir) unless
 * TEMPORAL_ADDRESS and NATS_URL point at one already, and bundles the
 * workflow code once. Test workers inherit what is put in process.env here.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { newKeyEntry } from '../../lib/codec/keyring';
import { startLocalStackOnFreePorts } from '../../services/local-stack/stack';

export default async function globalSetup(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  process.env.SB_TEST_RUN_DIR = runDir;
  // Payloads are encrypted in tests as in production: one key per run, inherited by every test file and process.
  if (!process.env.SB_PAYLOAD_KEYS && !process.env.SB_PAYLOAD_KEYS_FILE) process.env.SB_PAYLOAD_KEYS = newKeyEntry('test-run');

  if (process.env.TEMPORAL_ADDRESS && process.env.NATS_URL) {
    process.env.SB_TEST_STACK = 'external';
  } else {
    let tried = 0;
    // Each try stops what it started (jest skips globalTeardown when globalSetup throws).
    const { stack } = await startLocalStackOnFreePorts({ newDataDir: () => join(runDir, `stack-${++tried}`), readyTimeoutMs: 120_000, persist: false });
    process.env.TEMPORAL_ADDRESS = stack.temporalAddress;
    process.env.NATS_URL = stack.natsUrl;
    process.env.SB_TEST_STACK = stack.dataDir;
  }

  const { code } = await bundleWorkflowCode({
    workflowsPath: resolve(__dirname, '../../workflows/index.ts'),
    logger: quietLogger,
  });
  const bundlePath = join(runDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  process.env.SB_TEST_WORKFLOW_BUNDLE = bundlePath;
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error };
