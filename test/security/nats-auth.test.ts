/**
 * NATS with authentication, as production should run it (docs/security.md):
 * a nats-server that requires a user and password refuses a connection
 * without them, and Switchboard's own connectNats reaches it with the
 * credentials inside NATS_URL — the way the services take them today.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { findFreePorts, waitFor } from '../../lib/ports';
import { connectNats, splitNatsUrl } from '../../lib/nats/connect';
import { resolveBinary } from '../../services/local-stack/stack';

describe('NATS with user authentication', () => {
  let server: ChildProcess | undefined;
  let port = 0;
  const password = randomBytes(12).toString('hex');

  beforeAll(async () => {
    [port] = (await findFreePorts(1)) as [number];
    server = spawn(
      resolveBinary('nats-server', process.env.SB_NATS_BIN),
      ['--addr', '127.0.0.1', '--port', String(port), '--user', 'switchboard', '--pass', password],
      { stdio: 'ignore' },
    );
    await waitFor(
      'nats-server with auth',
      async () => {
        const probe = await connectNats({ url: `nats://switchboard:${password}@127.0.0.1:${port}`, name: 'probe' }).catch(() => undefined);
        await probe?.close();
        return probe !== undefined;
      },
      20_000,
    );
  });
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('splits credentials out of NATS_URL, percent-decoded, token or user and password', () => {
    expect(splitNatsUrl('nats://sw:p%40ss@a:4222, nats://sw:p%40ss@b:4222')).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222'],
      credentials: { user: 'sw', pass: 'p@ss' },
    });
    expect(splitNatsUrl('tls://s3cr3t@nats:4222')).toEqual({ servers: ['tls://nats:4222'], credentials: { token: 's3cr3t' } });
    expect(splitNatsUrl('nats://127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'], credentials: {} });
  });

  it('refuses a connection without credentials or with a wrong password', async () => {
    for (const url of [`nats://127.0.0.1:${port}`, `nats://switchboard:wrong@127.0.0.1:${port}`]) {
      const error = await connectNats({ url, name: 'anonymous' }).then(
        async (nc) => {
          await nc.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(String(error)).toMatch(/AUTHORIZATION_VIOLATION|Authorization Violation/i);
    }
  });

  it('lets connectNats in with the credentials in NATS_URL, and carries messages', async () => {
    const nc = await connectNats({ url: `nats://switchboard:${password}@127.0.0.1:${port}`, name: 'switchboard-test' });
    try {
      const sub = nc.subscribe('sb.audit', { max: 1 });
      nc.publish('sb.audit', 'hello');
      for await (const message of sub) expect(message.string()).toBe('hello');
    } finally {
      await nc.close();
    }
  });
});
