/**
 * Options of every Temporal connection the project opens (worker,
 * client, gateway, CLI, probes), built in one place from the environment:
 * plain for a local or in-cluster server; TLS, mTLS (client cert and key) and
 * an API key for Temporal Cloud or a secured cluster. The same object suits
 * `NativeConnection.connect` and `Connection.connect`.
 */
import { readFileSync } from 'node:fs';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { ConfigError } from './load';
import type { RuntimeEnv } from './env';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

type TemporalEnv = Partial<
  Pick<RuntimeEnv, 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY' | 'TEMPORAL_TLS_CA' | 'TEMPORAL_TLS_SERVER_NAME' | 'TEMPORAL_TLS' | 'TEMPORAL_API_KEY'>
>;

/** Reads a PEM file named by `variable`; the error names the variable and the path (never the content). */
function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${variable}: cannot read ${path} (${code})`);
  }
}

/** `env` defaults to none: a plain connection to `address`. */
export function temporalConnectionOptions({ address, env = {} }: { address: string; env?: TemporalEnv }): TemporalConnectionOptions {
  const { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: serverName, TEMPORAL_API_KEY: apiKey } = env;
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      cert === undefined
        ? 'TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not: mTLS needs both'
        : 'TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not: mTLS needs both',
    );
  }
  const wantsTls = env.TEMPORAL_TLS === true || cert !== undefined || ca !== undefined || serverName !== undefined || apiKey !== undefined;
  if (!wantsTls) return { address };
  const tls: TLSConfig = {
    ...(cert !== undefined && key !== undefined ? { clientCertPair: { crt: readPem('TEMPORAL_TLS_CERT', cert), key: readPem('TEMPORAL_TLS_KEY', key) } } : {}),
    ...(ca !== undefined ? { serverRootCACertificate: readPem('TEMPORAL_TLS_CA', ca) } : {}),
    ...(serverName !== undefined ? { serverNameOverride: serverName } : {}),
  };
  return { address, tls, ...(apiKey !== undefined ? { apiKey } : {}) };
}

/** What a log line may say about the connection: no key, no certificate. */
export function describeTemporalConnection(options: TemporalConnectionOptions): { address: string; tls: boolean; mtls: boolean; apiKey: boolean } {
  return { address: options.address, tls: options.tls !== undefined, mtls: options.tls?.clientCertPair !== undefined, apiKey: options.apiKey !== undefined };
}

/** gRPC status CANCELLED. */
const CANCELLED = 1;

/**
 * Under the SDK's retries, turns a retry that finds the connection closed
 * into that call's own failure. The SDK retries a call that failed with
 * UNAVAILABLE (Temporal away) from a timer; when the connection is closed
 * before the timer fires — a worker shutting down during a Temporal outage, a
 * test closing its client — opening the retry throws "Channel has been shut
 * down" from the timer, an uncaught exception that kills the process. Here
 * the call fails instead: CANCELLED, "the Temporal connection was closed".
 */
const closedConnectionGuard: Interceptor = (options, nextCall) => {
  try {
    return new InterceptingCall(nextCall(options));
  } catch (error) {
    if (!(error instanceof Error) || !/shut down/i.test(error.message)) throw error;
    const failed: ConstructorParameters<typeof InterceptingCall>[0] = {
      start(metadata, listener) {
        const details = `the Temporal connection was closed (${error.message})`;
        setImmediate(() => listener?.onReceiveStatus?.({ code: CANCELLED, details, metadata }));
      },
      sendMessage: () => undefined,
      sendMessageWithContext: () => undefined,
      startRead: () => undefined,
      halfClose: () => undefined,
      cancelWithStatus: () => undefined,
      getPeer: () => '',
      getAuthContext: () => null,
    };
    return new InterceptingCall(failed);
  }
};

/**
 * Interceptors of a `Connection` (the grpc-js client; `NativeConnection` has
 * no such retries): the SDK's default retries, and the guard above under them.
 */
function clientInterceptors(): Interceptor[] {
  return [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), closedConnectionGuard];
}

/** `Connection.connect` with the interceptors above: how every grpc-js client of the project connects. */
export function connectClient(options: ConnectionOptions): Promise<Connection> {
  return Connection.connect({ ...options, interceptors: clientInterceptors() });
}
