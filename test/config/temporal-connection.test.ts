/**
 * One helper builds the options of every Temporal connection (worker, client,
 * gateway, CLI) from the environment: plain, TLS, mTLS, API key.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRuntimeEnv } from '../../lib/config/env';
import { isConfigError } from '../../lib/config/load';
import { describeTemporalConnection, temporalConnectionOptions } from '../../lib/config/temporal-connection';

const dir = mkdtempSync(join(tmpdir(), 'sb-temporal-tls-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const cert = file('client.pem', '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n');
const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n');
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
const address = 'my-ns.a1b2c.tmprl.cloud:7233';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('temporalConnectionOptions', () => {
  it('is a plain connection when nothing is set (local dev server, in-cluster)', () => {
    expect(temporalConnectionOptions({ address: '127.0.0.1:7233', env: readRuntimeEnv({}) })).toEqual({ address: '127.0.0.1:7233' });
  });

  it('builds mTLS from the certificate, key, CA and server name files', () => {
    const env = readRuntimeEnv({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
    const options = temporalConnectionOptions({ address, env });
    expect(options.address).toBe(address);
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toContain('client');
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toContain('secret');
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toContain('ca');
    expect(options.tls!.serverNameOverride).toBe('temporal.internal');
    expect(options.apiKey).toBeUndefined();
    expect(describeTemporalConnection(options)).toEqual({ address, tls: true, mtls: true, apiKey: false });
  });

  it('sends a Temporal Cloud API key over TLS with the system roots', () => {
    const options = temporalConnectionOptions({ address, env: readRuntimeEnv({ TEMPORAL_API_KEY: 'tcld-api-key-123' }) });
    expect(options).toEqual({ address, tls: {}, apiKey: 'tcld-api-key-123' });
    // What start-up logs: whether a key is used, never the key.
    expect(JSON.stringify(describeTemporalConnection(options))).not.toContain('tcld-api-key-123');
  });

  it('turns TLS on without client certificates with TEMPORAL_TLS=true; empty variables count as unset', () => {
    expect(temporalConnectionOptions({ address, env: readRuntimeEnv({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_CERT: '', TEMPORAL_API_KEY: '' }) })).toEqual({
      address,
      tls: {},
    });
    expect(temporalConnectionOptions({ address, env: readRuntimeEnv({ TEMPORAL_TLS: 'false' }) })).toEqual({ address });
  });

  it('names the file and variable when a certificate file is missing', () => {
    const error = thrown(() =>
      temporalConnectionOptions({ address, env: readRuntimeEnv({ TEMPORAL_TLS_CERT: join(dir, 'nope.pem'), TEMPORAL_TLS_KEY: key }) }),
    );
    expect(isConfigError(error)).toBe(true);
    expect(error.message).toBe(`TEMPORAL_TLS_CERT: cannot read ${join(dir, 'nope.pem')} (ENOENT)`);
  });

  it('refuses half an mTLS pair, naming the missing variable', () => {
    expect(thrown(() => temporalConnectionOptions({ address, env: readRuntimeEnv({ TEMPORAL_TLS_CERT: cert }) })).message).toMatch(
      /^TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not/,
    );
    expect(thrown(() => temporalConnectionOptions({ address, env: readRuntimeEnv({ TEMPORAL_TLS_KEY: key }) })).message).toMatch(
      /^TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not/,
    );
  });

  it('rejects a TEMPORAL_TLS that is not true or false, naming it', () => {
    expect(thrown(() => readRuntimeEnv({ TEMPORAL_TLS: 'yes' })).message).toContain('TEMPORAL_TLS');
  });
});
