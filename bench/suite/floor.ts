/**
 * The floor target of part 1: `bench/floor/main.ts` in its own process on the
 * bench stack's Temporal server — HTTP in, one eagerly started workflow with
 * one local activity that calls the fake vendor, HTTP out. What a durable
 * call costs at the least on this server, measured in the same run and the
 * same way as Switchboard.
 */
import { join } from 'node:path';
import { findFreePorts } from '../../lib/ports';
import { spawnService, waitUntilReady, type ServiceProcess } from './services';

export async function startFloor(o: {
  temporalAddress: string;
  vendorUrl: string;
  vendorKey: string;
  runDir: string;
  readyTimeoutMs?: number;
  nodeArgs?: string[];
}): Promise<{ service: ServiceProcess; url: string }> {
  const [port] = await findFreePorts(1);
  const service = spawnService({
    name: 'floor',
    args: [...(o.nodeArgs ?? []), 'bench/floor/main.ts'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: o.temporalAddress,
      FLOOR_PORT: String(port),
      FLOOR_VENDOR_URL: o.vendorUrl,
      FLOOR_VENDOR_KEY: o.vendorKey,
    },
    logDir: join(o.runDir, 'logs'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(service, `${url}/readyz`, o.readyTimeoutMs ?? 180_000);
  return { service, url };
}
