/**
 * The supervisor's cooldown is a durable Temporal timer: with every worker
 * process killed while a breaker is open, the timer still fires, and the
 * breaker is half-open as soon as a worker is back after the cooldown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BreakerCluster, openaiOrg, startBreakerCluster, upstreamOf } from './breaker-cluster';
import { eventually } from '../harness/switchboard';

const COOLDOWN_MS = 4_000;

describe('breaker timers survive every worker being down', () => {
  let c: BreakerCluster;
  // A stand-in for Slack's incoming webhook: the supervisor posts each transition here.
  const posted: Array<{ text: string }> = [];
  let webhook: Server;
  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posted.push(JSON.parse(body) as { text: string });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/services/T000/B000/secret`;
    c = await startBreakerCluster({
      pods: 2,
      configOverrides: {
        breaker: { baseCooldownMs: COOLDOWN_MS, maxCooldownMs: 30_000, jitterRatio: 0 },
        notifications: { webhookUrlEnv: 'SB_BRK_WEBHOOK_URL' },
      },
      podEnv: { SB_BRK_WEBHOOK_URL: url },
    });
  }, 90_000);
  afterAll(async () => {
    await c?.close();
    await new Promise((resolve) => webhook?.close(resolve));
  });

  it('turns half-open after its cooldown even though every pod was killed while it was open, and probes by itself', async () => {
    const A = upstreamOf('a');
    c.vendor.setFault({ organisation: openaiOrg('a'), fault: { kind: 'account_locked' } });
    await c.trafficUntil(() => c.events.some((e) => e.upstream === A && e.transition === 'opened'), { concurrency: 2, tag: 'lock' });
    const opened = c.events.find((e) => e.upstream === A && e.transition === 'opened')!;
    const reopenAt = opened.evidence.reopenAt!;

    for (const pod of c.pods) pod.kill('SIGKILL');
    await Promise.all(c.pods.map((p) => p.exited));
    const killedAt = Date.now();
    expect(killedAt).toBeLessThan(reopenAt);
    // Wait out the cooldown with nobody running: the breaker is still open in KV (no worker ran the timer's task).
    await eventually('the cooldown to pass', () => (Date.now() > reopenAt + 500 ? true : undefined), COOLDOWN_MS + 2_000);
    expect((await c.breaker(A))?.state).toBe('open');

    c.spawnPod();
    const halfOpen = await c.waitForEvent('half_open after restart', (e) => e.upstream === A && e.transition === 'half_open', 60_000);
    expect(halfOpen.cause).toBe('cooldown_elapsed');
    expect(halfOpen.at).toBeGreaterThanOrEqual(reopenAt);
    // No caller sent anything since the restart: the supervisor probed by itself, found the account still locked, re-opened
    // (on the probe's verdict, or on its CallEvent's fatal trip, whichever reached the supervisor first).
    const reopened = await c.waitForEvent(
      'the supervisor probe to re-open it',
      (e) => e.upstream === A && e.transition === 'opened' && e.revision > halfOpen.revision,
      30_000,
    );
    expect(['probe_failed', 'fatal']).toContain(reopened.cause);
    expect(reopened.reason).toMatch(/401/);
    const probes = c.vendor.requests({ organisation: openaiOrg('a') }).filter((r) => r.time >= halfOpen.at && r.time <= reopened.at);
    expect(probes).toHaveLength(1);

    // The operator was told of every transition, Slack-style — at least once: the pods were killed right after the
    // opening, so its post may have been retried by the pod that took the supervisor over.
    await eventually('three webhook posts', () => (new Set(posted.map((p) => p.text)).size >= 3 ? true : undefined), 20_000);
    expect([...new Set(posted.map((p) => p.text))]).toEqual([
      expect.stringMatching(/^:red_circle: breaker opened for bko\/brk-a \(cluster brk-[0-9a-f-]+\): fatal error: 401/),
      expect.stringMatching(/^:large_yellow_circle: breaker half_open for bko\/brk-a/),
      expect.stringMatching(/^:red_circle: breaker opened for bko\/brk-a \(cluster brk-[0-9a-f-]+\): (probe failed|fatal error): 401/),
    ]);
  }, 90_000);
});
