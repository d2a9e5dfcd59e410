import { connect, type NatsConnection } from 'nats';
import { checkReplicas, useReplicas } from './replicas';

export interface NatsConnectOptions {
  /** `NATS_URL`: one URL or a comma-separated list of a cluster's servers. */
  url: string;
  /** Connection name shown by the NATS server's monitoring. */
  name: string;
  /** `SB_NATS_REPLICAS`: copies of every stream and bucket this process creates or opens. Default 1. */
  replicas?: number;
  /** Keep reconnecting for ever (long-lived services); default: the client's own limit (CLI). */
  reconnectForever?: boolean;
}

/** Connects to NATS and attaches the replica count every stream and bucket opened through this connection gets. */
export async function connectNats({ url, name, replicas = 1, reconnectForever = false }: NatsConnectOptions): Promise<NatsConnection> {
  checkReplicas(replicas);
  const { servers, credentials } = splitNatsUrl(url);
  const nc = await connect({ servers, name, ...credentials, ...(reconnectForever ? { maxReconnectAttempts: -1 } : {}) });
  useReplicas(nc, replicas);
  return nc;
}

const USERINFO = /^([a-z]+:\/\/)([^@/]*)@/i;

/**
 * Servers and credentials of a `NATS_URL`: nats.js ignores credentials inside
 * a server URL, so `nats://user:password@host` (or `nats://token@host`) is
 * split here into plain servers and `user`/`pass` (or `token`), percent-decoded.
 */
export function splitNatsUrl(url: string): { servers: string[]; credentials: { user?: string; pass?: string; token?: string } } {
  let credentials: { user?: string; pass?: string; token?: string } = {};
  const servers = url
    .split(',')
    .map((server) => server.trim())
    .filter(Boolean)
    .map((server) => {
      const userinfo = USERINFO.exec(server)?.[2];
      if (userinfo) {
        const colon = userinfo.indexOf(':');
        credentials =
          colon < 0
            ? { token: decodeURIComponent(userinfo) }
            : { user: decodeURIComponent(userinfo.slice(0, colon)), pass: decodeURIComponent(userinfo.slice(colon + 1)) };
      }
      return server.replace(USERINFO, '$1');
    });
  return { servers, credentials };
}

/** `NATS_URL` as a log line may show it: servers without credentials (`nats://user:password@host` → `nats://host`). */
export function describeNatsUrl(url: string): string {
  return splitNatsUrl(url).servers.join(',');
}
