/**
 * `npm run bundle:workflows -- <out.js>`: bundles the workflow code once at
 * build time, so a worker started with SB_WORKFLOW_BUNDLE=<out.js> skips
 * webpack at start-up (seconds per pod, and no compiler in the image).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(out: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/index') });
  writeFileSync(resolve(out), code);
  console.log(`workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main(process.argv[2] ?? 'dist/workflow-bundle.js').catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
