/** The demo's handle on the fake vendor's admin API (over HTTP, as an operator would use it). */
import { z } from 'zod';
import type { FaultRuleInput } from '../../schemas/fake-vendor';

const RequestsPage = z.object({
  count: z.number(),
  records: z.array(z.object({ organisation: z.string().nullable(), status: z.number().nullable(), protocol: z.string(), promptText: z.string().optional() })),
});

export function vendorAdmin(baseUrl: string) {
  const admin = `${baseUrl}/_admin`;
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${admin}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`fake vendor admin ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<unknown>;
  };
  return {
    setFaults: (rules: FaultRuleInput[]) => send('POST', '/faults', rules),
    clearFaults: () => send('DELETE', '/faults'),
    async requests(contains: string, includePrompt = false) {
      const query = new URLSearchParams({ contains, ...(includePrompt ? { includePrompt: 'true' } : {}) });
      return RequestsPage.parse(await send('GET', `/requests?${query}`)).records;
    },
  };
}
export type VendorAdmin = ReturnType<typeof vendorAdmin>;
