/**
 * Closed-loop load on a running stack (`make up` or `make demo`) with the
 * official `openai` client, as a new user would measure it: the fake vendor
 * directly, then the same calls through Switchboard's gateway, at each
 * concurrency; the gateway's added latency is its p50 minus the vendor's.
 * The figures are comparable with part 1 of `make bench` (README,
 * Performance); the stack's own config applies, admission included.
 *
 *   make load                      # concurrency 1 and 10, 10 s each
 *   npx tsx bench/demo-load.ts --concurrency 1,10,50 --seconds 20 [--stream]
 */
import { parseArgs } from 'node:util';
import { readLocalStackEnv } from '../services/local-stack/settings';
import { callOnce, openaiClient, runClosedLoop, summarise, type CallOutcome, type Target } from './suite/sdk-load';

const VENDOR_BASELINE_CALLS = 200;

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,10' },
    seconds: { type: 'string', default: '10' },
    stream: { type: 'boolean', default: false },
    gateway: { type: 'string' },
    vendor: { type: 'string' },
    key: { type: 'string', default: 'sb-demo-key-acme' },
    model: { type: 'string', default: 'chat-default' },
  },
});

async function main(): Promise<void> {
  const env = readLocalStackEnv();
  const concurrencies = values.concurrency.split(',').map(Number);
  const durationMs = Number(values.seconds) * 1000;
  if (concurrencies.some((c) => !Number.isInteger(c) || c < 1) || !(durationMs > 0)) {
    throw new Error('--concurrency takes positive integers (e.g. 1,10) and --seconds a positive number');
  }
  const vendor: Target = {
    name: 'vendor',
    baseURL: values.vendor ?? `http://127.0.0.1:${env.FAKE_VENDOR_PORT}/v1`,
    apiKey: 'sk-fake-org-a-1',
    model: 'gpt-4o-mini',
  };
  const gateway: Target = {
    name: 'switchboard',
    baseURL: values.gateway ?? `http://127.0.0.1:${env.SB_GATEWAY_PORT}/v1`,
    apiKey: values.key,
    model: values.model,
  };
  const pick = values.stream ? (o: CallOutcome) => o.ttftMs : undefined;
  const what = values.stream ? 'TTFT p50' : 'p50';
  console.log(`closed loop, ${values.seconds} s per row, ${values.stream ? 'streamed' : 'not streamed'}; the official openai client (no retries)`);
  // The vendor's own latency, from calls one at a time: a closed loop straight at the fake vendor would spend the
  // organisation's rate limit that the gateway's calls then meet.
  const direct = openaiClient(vendor);
  const baseline: CallOutcome[] = [];
  for (let i = 0; i < VENDOR_BASELINE_CALLS; i++) baseline.push(await callOnce(direct, vendor.model, `Baseline ${i}: name a bakery.`, values.stream));
  const vendorP50 = summarise(
    baseline.filter((o) => o.ok),
    pick,
  ).p50Ms;
  console.log(`vendor directly, ${VENDOR_BASELINE_CALLS} calls one at a time: ${what} ${vendorP50} ms`);
  const client = openaiClient(gateway);
  for (const concurrency of concurrencies) {
    const run = await runClosedLoop((i) => callOnce(client, gateway.model, `Load ${i}: name a bakery.`, values.stream), concurrency, {
      warmupMs: 1_000,
      durationMs,
    });
    const summary = summarise(run.outcomes, pick);
    const errors = run.outcomes.filter((o) => !o.ok);
    const added = summary.p50Ms !== null && vendorP50 !== null ? ` (added ${(summary.p50Ms - vendorP50).toFixed(1)} ms)` : '';
    console.log(
      `switchboard c=${String(concurrency).padEnd(3)} ${String(run.callsPerSecond).padStart(6)} calls/s  ${what} ${summary.p50Ms}${added} p99 ${summary.p99Ms} ms  ` +
        `errors ${errors.length}/${run.outcomes.length}` +
        (errors[0] ? `  (first: ${errors[0].error})` : ''),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
