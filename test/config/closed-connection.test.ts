/**
 * A client call retrying while Temporal is away, when its connection is
 * closed: it fails with a clear error instead of throwing "Channel has been
 * shut down" from the SDK's retry timer (an uncaught exception that killed a
 * worker shutting down during an outage, and failed whichever test file ran
 * next in the same jest worker).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connectClient } from '../../lib/config/temporal-connection';
import { testStack } from '../harness/env';
import { eventually } from '../harness/switchboard';

/** A TCP forwarder to Temporal that can turn into one resetting every connection (Temporal "away"). */
async function startForwarder(target: string) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const open = new Set<Socket>();
  const state = { away: false, refused: 0 };
  const server: Server = createServer((client) => {
    if (state.away) {
      state.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    goAway() {
      state.away = true;
      for (const socket of open) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a Temporal client connection closed while a call retries', () => {
  it('fails that call with "the Temporal connection was closed", nothing thrown from a timer', async () => {
    const forwarder = await startForwarder(testStack().temporalAddress);
    try {
      const connection = await connectClient({ address: forwarder.address });
      forwarder.goAway();
      const call = connection.workflowService.getSystemInfo({});
      const settled = call.then(
        () => 'answered',
        (error: unknown) => error,
      );
      // The first try has met the reset: the SDK's retry interceptor now waits on its backoff timer.
      await eventually('a try refused while Temporal is away', () => forwarder.state.refused > 0 || undefined, 30_000);
      await connection.close();
      const outcome = await settled;
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toMatch(/the Temporal connection was closed/);
    } finally {
      await forwarder.close();
    }
  }, 60_000);
});
