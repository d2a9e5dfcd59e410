import { rmSync } from 'node:fs';
import { stopLocalStack } from '../../services/local-stack/stack';

export default async function globalTeardown(): Promise<void> {
  const stackDir = process.env.SB_TEST_STACK;
  try {
    if (stackDir && stackDir !== 'external') await stopLocalStack(stackDir);
  } finally {
    if (process.env.SB_TEST_RUN_DIR) rmSync(process.env.SB_TEST_RUN_DIR, { recursive: true, force: true });
  }
}
