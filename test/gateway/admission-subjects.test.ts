/** Whose budgets a request spends: tenant, key, IP, and the user or the key's anonymous caller. */
import { admissionSubjects, keyPart } from '../../lib/admission/subjects';
import { AdmissionConfig } from '../../schemas/gateway';

const config = AdmissionConfig.parse({ perIp: { requestsPerMinute: 100 } });
const base = { tenant: 'acme', keyName: 'web', ip: '10.0.0.7', ipTrusted: false, user: undefined, segment: undefined };

describe('admissionSubjects', () => {
  it.each([
    ['a named user', { user: 'u-1', segment: 'trusted' as const }, ['tenant', 'API key', 'client IP', 'user (trusted)']],
    ['an allowlisted user: tenant and key still count', { user: 'u-1', segment: 'allowlisted' as const }, ['tenant', 'API key', 'client IP']],
    ['no user: the anonymous caller of the key', {}, ['tenant', 'API key', 'client IP', 'anonymous caller of this API key']],
    ['no user behind a trusted proxy: per client IP', { ipTrusted: true }, ['tenant', 'API key', 'client IP', 'anonymous caller of this API key from this IP']],
  ])('%s', (_, ask, expected) => {
    expect(admissionSubjects(config, { ...base, ...ask }).map((s) => s.what)).toEqual(expected);
  });

  it("uses the tenant's and key's own limits over the defaults, and leaves unlimited subjects out", () => {
    const subjects = admissionSubjects(AdmissionConfig.parse({}), { ...base, tenantLimits: { concurrent: 3 }, keyLimits: {} });
    expect(subjects.map((s) => [s.what, s.limits])).toEqual([
      ['tenant', { concurrent: 3 }],
      ['anonymous caller of this API key', config.anonymous],
    ]);
  });

  it('keeps keys of different tenants, keys and IPs apart even when their names contain dots', () => {
    const a = admissionSubjects(config, { ...base, tenant: 'a', keyName: 'b.c', ipTrusted: true });
    const b = admissionSubjects(config, { ...base, tenant: 'a.b', keyName: 'c', ipTrusted: true });
    expect(new Set([...a, ...b].map((s) => s.key)).size).toBe(a.length + b.length - 1); // only the shared client IP meets
    expect(a.every((s) => /^[A-Za-z0-9_.=-]+$/.test(s.key))).toBe(true);
    expect(keyPart('')).toBe('_');
  });
});
