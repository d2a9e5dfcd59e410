/** The floor workflow's one local activity: the request body, as received, to the vendor's chat completions. */
export function createFloorActivities(o: { vendorUrl: string; apiKey: string }) {
  return {
    async forwardToVendor(body: string): Promise<string> {
      const response = await fetch(`${o.vendorUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${o.apiKey}` },
        body,
      });
      if (!response.ok) throw new Error(`vendor answered ${response.status}`);
      return response.text();
    },
  };
}
