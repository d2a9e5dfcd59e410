/** The suite's handle on the fake vendor's admin API: faults in, the request log out (parsed, never cast). */
import { z } from 'zod';
import { VendorRequestRecord, type FaultRuleInput } from '../../schemas/fake-vendor';

const RequestsPage = z.object({ count: z.number(), records: z.array(VendorRequestRecord) });

export function vendorAdmin(vendorUrl: string) {
  const send = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${vendorUrl}/_admin${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`fake vendor admin ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    setFaults: (rules: FaultRuleInput[]) => send('POST', '/faults', rules),
    clearFaults: () => send('DELETE', '/faults'),
    resetLog: () => send('DELETE', '/requests'),
    async requests(filter: { organisation?: string; since?: number; contains?: string[]; includePrompt?: boolean } = {}): Promise<VendorRequestRecord[]> {
      const query = new URLSearchParams();
      if (filter.organisation) query.set('organisation', filter.organisation);
      if (filter.since !== undefined) query.set('since', String(filter.since));
      for (const c of filter.contains ?? []) query.append('contains', c);
      if (filter.includePrompt) query.set('includePrompt', 'true');
      return RequestsPage.parse(await send('GET', `/requests?${query}`)).records;
    },
  };
}
export type VendorAdmin = ReturnType<typeof vendorAdmin>;
