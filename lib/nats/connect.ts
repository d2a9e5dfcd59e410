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
  const servers = url.split(',').map((server) => server.trim()).filter(Boolean);
  const nc = await connect({ servers, name, ...(reconnectForever ? { maxReconnectAttempts: -1 } : {}) });
  useReplicas(nc, replicas);
  return nc;
}

/** `NATS_URL` as a log line may show it: servers without credentials (`nats://user:password@host` → `nats://host`). */
export function describeNatsUrl(url: string): string {
  return url
    .split(',')
    .map((server) => server.trim().replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1'))
    .join(',');
}
