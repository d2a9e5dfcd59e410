/**
 * Whose budgets a request spends: the tenant's, the API key's, the client
 * IP's (when limited), and the user's — or, for a request without a user, the
 * key's anonymous subject (one per client IP when the gateway trusts a proxy
 * header, else one per key). Leaving out `user`, or sending a fresh one each
 * time, still meets the tenant's and the key's limits. Pure: the gateway
 * stores each subject's state under its `key` in NATS KV.
 */
import type { AdmissionConfig, AdmissionLimits, Segment } from '../../schemas/gateway';

export interface AdmissionSubject {
  /** KV key of the subject's limiter state (NATS-key-safe). */
  key: string;
  limits: AdmissionLimits;
  /** How a 429 names it: `tenant`, `API key`, `client IP`, `user (trusted)`, `anonymous caller of this API key`. */
  what: string;
}

export interface SubjectAsk {
  tenant: string;
  /** Name of the API key that authenticated the request (config `tenants[].keys[].name`). */
  keyName: string;
  /** The user's segment; undefined for a request without a user. */
  segment: Segment | undefined;
  user: string | undefined;
  ip: string;
  /** Whether `ip` came from a trusted proxy header (else it is the socket's peer, often the proxy itself). */
  ipTrusted: boolean;
  /** The tenant's and the key's own limits from the tenant config, when set. */
  tenantLimits?: AdmissionLimits | undefined;
  keyLimits?: AdmissionLimits | undefined;
}

/** Base64url: any string becomes one NATS-key-safe token, and two different strings never the same one. */
export const keyPart = (value: string) => Buffer.from(value, 'utf8').toString('base64url') || '_';

const limited = (limits: AdmissionLimits) => limits.requestsPerMinute !== undefined || limits.tokensPerMinute !== undefined || limits.concurrent !== undefined;

/** The subjects of one request, broadest first (a refusal by the tenant's budget spends none of the user's). */
export function admissionSubjects(config: AdmissionConfig, ask: SubjectAsk): AdmissionSubject[] {
  const tenant = keyPart(ask.tenant);
  const key = keyPart(ask.keyName);
  const subjects: AdmissionSubject[] = [
    { key: `t.${tenant}`, limits: ask.tenantLimits ?? config.perTenant, what: 'tenant' },
    { key: `k.${tenant}.${key}`, limits: ask.keyLimits ?? config.perKey, what: 'API key' },
  ];
  if (limited(config.perIp)) subjects.push({ key: `ip.${keyPart(ask.ip)}`, limits: config.perIp, what: 'client IP' });
  if (ask.user !== undefined && ask.segment !== undefined) {
    if (ask.segment !== 'allowlisted')
      subjects.push({ key: `u.${tenant}.${keyPart(ask.user)}`, limits: config.segments[ask.segment], what: `user (${ask.segment})` });
  } else {
    const who = ask.ipTrusted ? `.${keyPart(ask.ip)}` : '';
    subjects.push({
      key: `a.${tenant}.${key}${who}`,
      limits: config.anonymous,
      what: ask.ipTrusted ? 'anonymous caller of this API key from this IP' : 'anonymous caller of this API key',
    });
  }
  return subjects.filter((s) => limited(s.limits));
}
